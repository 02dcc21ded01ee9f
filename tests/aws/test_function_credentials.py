"""Functions call Kiln's AWS endpoint with their environment's credentials, through the real worker and sandbox.

A Kiln web server listens on the port the test worker forwards into its sandboxes (``WORKER_KILN_PORT``), so
boto3 inside a function reaches it through ``AWS_ENDPOINT_URL`` with no code change; IAM decides with the
function's role, and a denial is written to the invocation's log. A function whose writes trigger
itself is stopped after 16 hops, the chain travelling with its credentials.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from iam.models import AccessKey
from invoker.models import FINAL_STATUSES, Invocation, InvocationStatus
from tests.aws.conftest import allow_role as _role
from tests.aws.conftest import wait_invocation as _wait
from tests.conftest import WORKER_KILN_PORT, invoke
from tests.waiting import until

READER = """\
import os
import boto3

def handler(event, context):
    out = {'key_id': os.environ['AWS_ACCESS_KEY_ID'], 'endpoint': os.environ['AWS_ENDPOINT_URL'],
           'has_token': bool(os.environ.get('AWS_SESSION_TOKEN')), 'region': os.environ['AWS_REGION']}
    out['arn'] = boto3.client('sts').get_caller_identity()['Arn']
    s3 = boto3.client('s3')
    if 'Records' in event:
        record = event['Records'][0]['s3']
        event = {'bucket': record['bucket']['name'], 'key': record['object']['key']}
    try:
        out['body'] = s3.get_object(Bucket=event['bucket'], Key=event['key'])['Body'].read().decode()
    except Exception as exc:
        out['error'] = getattr(exc, 'response', {}).get('Error', {}).get('Code', repr(exc))
    print('result', out)
    return out
"""


@pytest.fixture
def endpoint(kiln_web: str) -> str:  # the test's own boto3 clients (tests/aws/conftest.py) use the same server
    return kiln_web


def _reader(api: Any, name: str, role: str | None) -> None:
    body = {"name": name, "runtime": "python3.11", "handler": "app.handler", "code": {"files": {"app.py": READER}}, "timeout": 20}
    if role:
        body["role"] = role
    response = api.post("/api/v1/functions/", body, format="json")
    assert response.status_code == 201, response.content


def test_role_allowing_get_object_reads_the_object(api, worker, root, transactional_db) -> None:
    root("s3").create_bucket(Bucket="data")
    root("s3").put_object(Bucket="data", Key="a.txt", Body=b"hello from kiln")
    _role("reader", ["s3:GetObject"], "arn:aws:s3:::data/*")
    _reader(api, "reader-fn", "reader")
    response = invoke(api, "reader-fn", {"bucket": "data", "key": "a.txt"})
    assert response.status_code == 200, response.content
    out = json.loads(response.content)
    assert out["body"] == "hello from kiln", out
    assert out["key_id"].startswith("ASIA") and out["has_token"]
    assert out["endpoint"] == f"http://127.0.0.1:{WORKER_KILN_PORT}"
    assert out["arn"].endswith(":assumed-role/reader/reader-fn")
    key = AccessKey.objects.get(access_key_id=out["key_id"])
    assert key.environment_id and key.role.name == "reader"
    assert key.expires_at is not None


def test_role_without_get_object_is_denied_and_logged(api, worker, root, transactional_db) -> None:
    root("s3").create_bucket(Bucket="secret")
    root("s3").put_object(Bucket="secret", Key="b.txt", Body=b"nope")
    _role("lister", ["s3:ListBucket"], "arn:aws:s3:::secret")
    _reader(api, "denied-fn", "lister")
    response = invoke(api, "denied-fn", {"bucket": "secret", "key": "b.txt"})
    out = json.loads(response.content)
    invocation = Invocation.objects.get(pk=response["X-Kiln-Request-Id"])
    assert out.get("error") == "AccessDenied", (out, invocation.logs)
    assert "[Kiln] AccessDenied: User: arn:aws:sts::" in invocation.logs
    assert "s3:GetObject on resource: \"arn:aws:s3:::secret/b.txt\"" in invocation.logs


def test_each_run_of_a_warm_environment_logs_its_own_denials(api, worker, root, transactional_db) -> None:
    """A warm environment's run is noted by its concurrency lease's script (invoker/run.py ``admit``): each run's
    denial lands in that run's log, synchronous calls and an asynchronous invocation alike, never in its neighbour's."""
    root("s3").create_bucket(Bucket="vault")
    _role("vault-lister", ["s3:ListBucket"], "arn:aws:s3:::vault")
    _reader(api, "warm-denied-fn", "vault-lister")
    logs: dict[str, str] = {}
    for key in ("first.txt", "second.txt", "third.txt"):
        response = invoke(api, "warm-denied-fn", {"bucket": "vault", "key": key})
        assert response.status_code == 200, response.content
        logs[key] = Invocation.objects.get(pk=response["X-Kiln-Request-Id"]).logs
    response = invoke(api, "warm-denied-fn", {"bucket": "vault", "key": "queued.txt"}, invocation_type="Event")
    assert response.status_code == 202, response.content
    logs["queued.txt"] = _wait({"pk": response["X-Kiln-Request-Id"]}).logs
    cold_starts = Invocation.objects.filter(function_name="warm-denied-fn", cold_start=True).count()
    assert cold_starts < 4  # some of the runs were warm (here: one environment, so one cold start)
    for key, text in logs.items():
        assert f'"arn:aws:s3:::vault/{key}"' in text, (key, text)
        assert text.count("[Kiln] AccessDenied") == 1, (key, text)  # its own denial, nobody else's


def test_function_without_role_is_denied_everything(api, worker, root, transactional_db) -> None:
    root("s3").create_bucket(Bucket="open")
    root("s3").put_object(Bucket="open", Key="c.txt", Body=b"x")
    _reader(api, "no-role-fn", None)
    response = invoke(api, "no-role-fn", {"bucket": "open", "key": "c.txt"})
    out = json.loads(response.content)
    logs = Invocation.objects.get(pk=response["X-Kiln-Request-Id"]).logs
    assert out.get("error") == "AccessDenied" and out["key_id"].startswith("ASIA"), (out, logs)
    assert ":assumed-role/kiln-no-role/no-role-fn" in out["arn"]


def test_bucket_notification_function_reads_the_upload(api, worker, root, transactional_db) -> None:
    _role("uploads-reader", ["s3:GetObject"], "arn:aws:s3:::uploads/*")
    _reader(api, "on-upload", "uploads-reader")
    root("s3").create_bucket(Bucket="uploads")
    configs = [{"id": "all", "events": ["s3:ObjectCreated:*"], "filter": {}, "function": "on-upload"}]
    assert api.put("/api/v1/buckets/uploads/notifications/", configs, format="json").status_code == 200
    root("s3").put_object(Bucket="uploads", Key="in/photo.txt", Body=b"uploaded bytes")
    invocation = _wait({"function_name": "on-upload"})
    assert invocation.status == InvocationStatus.SUCCEEDED, invocation.logs
    assert json.loads(invocation.result)["body"] == "uploaded bytes"


def test_credentials_are_revoked_when_the_environment_stops(transactional_db) -> None:
    from invoker import credentials

    role = _role("short", ["s3:GetObject"], "*")
    env = credentials.environment_credentials_issue(environment_id="env1234", function_name="f", role_id=role.pk)
    assert AccessKey.objects.filter(access_key_id=env["AWS_ACCESS_KEY_ID"], environment_id="env1234").exists()
    credentials.environment_credentials_note_invocation(environment_id="env1234", invocation_id="inv-1", seconds=5)
    assert credentials.environment_invocation("env1234") == "inv-1"  # in Redis: no database write per run
    assert credentials.environment_invocation("env-other") == ""
    credentials.environment_credentials_revoke(environment_id="env1234")
    assert not AccessKey.objects.filter(environment_id="env1234").exists()


LOOPER = """\
import boto3
from urllib.parse import unquote_plus

def handler(event, context):
    record = event['Records'][0]['s3']
    bucket, key = record['bucket']['name'], unquote_plus(record['object']['key'])
    boto3.client('s3').put_object(Bucket=bucket, Key=key + '.x', Body=b'again')
    return key
"""


def test_a_function_triggering_itself_is_stopped_after_16_hops(api, worker, root, transactional_db) -> None:
    _role("looper", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::loop/*")
    body = {"name": "looper", "runtime": "python3.11", "handler": "app.handler", "code": {"files": {"app.py": LOOPER}}, "role": "looper", "timeout": 20}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    root("s3").create_bucket(Bucket="loop")
    configs = [{"id": "self", "events": ["s3:ObjectCreated:*"], "filter": {}, "function": "looper"}]
    assert api.put("/api/v1/buckets/loop/notifications/", configs, format="json").status_code == 200
    root("s3").put_object(Bucket="loop", Key="seed", Body=b"go")
    stopped = _wait({"function_name": "looper", "error__errorType": "RecursiveInvocationException"}, seconds=120)
    # Hop 17 is refused when hop 16 writes its object, while hop 16 is still running: wait for it to finish (seen in CI).
    until(lambda: Invocation.objects.filter(function_name="looper", status__in=FINAL_STATUSES).count() >= 17, 30)
    runs = list(Invocation.objects.filter(function_name="looper").exclude(pk=stopped.pk).order_by("queued_at"))
    assert len(runs) == 16 and all(r.status == InvocationStatus.SUCCEEDED for r in runs), [(r.status, r.logs) for r in runs]
    first = runs[0]
    assert "chain_id" not in first.trigger_detail  # the seed was written by the root, not a function
    assert [r.trigger_detail.get("chain_depth", 1) for r in runs] == list(range(1, 17))
    assert {r.trigger_detail.get("chain_id") for r in runs[1:]} == {str(first.pk)}
    assert stopped.trigger_detail["chain_id"] == str(first.pk) and stopped.trigger_detail["chain_depth"] == 17
    assert stopped.status == InvocationStatus.FAILED and "recursive loop" in stopped.logs
    assert stopped.trigger_detail["key"] == "seed" + ".x" * 16
    # The console's causal chain: each hop's parent is the invocation whose write triggered it.
    assert first.parent_id is None
    assert [r.parent_id for r in runs[1:]] == [r.pk for r in runs[:-1]]
    assert stopped.parent_id == runs[-1].pk
    # ... and the stopped event's page shows that chain, back to the seed upload, and why it did not run.
    from django.contrib.auth.models import User
    from django.test import Client

    console = Client()
    console.force_login(User.objects.create_superuser("loop-admin", "loop@example.com", "pw-123456789"))
    page = console.get(f"/console/invoker/invocation/{stopped.pk}/change/").content.decode()
    assert page.count('class="kiln-chain-parent"') == 16
    assert "s3://loop/seed" + ".x" * 16 in page  # the write that would have run it
    assert f"hop 17 of chain <code>{str(first.pk)[:8]}</code>" in page
    assert "stopped: a recursive loop (more than 16 invocations in one chain), not run" in page
    assert str(runs[0].pk)[:8] in page and str(runs[-1].pk)[:8] in page
