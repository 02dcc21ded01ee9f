"""End to end with a real worker: Lambda-style handlers receive the S3 event; delivery survives a broker outage."""

from __future__ import annotations

import json
import time
from unittest import mock
from urllib.parse import quote

import pytest
from django.utils import timezone

from invoker.models import FINAL_STATUSES, Invocation, InvocationStatus, Trigger
from invoker.reaper import REDISPATCH_AFTER_S, invocations_reap

pytestmark = pytest.mark.django_db(transaction=True)

PYTHON_HANDLER = (
    "import urllib.parse\n\n"
    "def handler(event, context):\n"
    "    record = event['Records'][0]\n"
    "    bucket = record['s3']['bucket']['name']\n"
    "    key = urllib.parse.unquote_plus(record['s3']['object']['key'], encoding='utf-8')\n"
    "    print(f'got {key} from {bucket}')\n"
    "    return {'bucket': bucket, 'key': key, 'size': record['s3']['object'].get('size')}\n"
)
NODE_HANDLER = (
    "exports.handler = async (event) => {\n"
    "  const record = event.Records[0];\n"
    "  const bucket = record.s3.bucket.name;\n"
    '  const key = decodeURIComponent(record.s3.object.key.replace(/\\+/g, " "));\n'
    "  console.log(`Processing new file: ${key} from bucket: ${bucket}`);\n"
    "  return { statusCode: 200 };\n"
    "};\n"
)
KEY = "uploads/my photo+1 é.txt"


def create(api, name, runtime, filename, source):
    response = api.post("/api/v1/functions/", {"name": name, "runtime": runtime, "handler": "index.handler", "code": {"files": {filename: source}}}, format="json")
    assert response.status_code == 201, response.content


def wait_final(count: int, timeout: float = 20.0) -> list[Invocation]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = list(Invocation.objects.filter(trigger=Trigger.S3).order_by("function_name"))
        if len(rows) >= count and all(r.status in FINAL_STATUSES for r in rows):
            return rows
        time.sleep(0.2)
    raise AssertionError(f"not finished: {[(r.function_name, r.status) for r in Invocation.objects.all()]}")


def test_python_and_node_handlers_receive_the_event(api, worker):
    create(api, "py-s3", "python3.11", "index.py", PYTHON_HANDLER)
    create(api, "node-s3", "nodejs20.x", "index.js", NODE_HANDLER)
    api.post("/api/v1/buckets/", {"name": "e2e"}, format="json")
    configs = [{"id": "py", "events": ["s3:ObjectCreated:*"], "filter": {"suffix": ".txt"}, "function": "py-s3"},
               {"id": "node", "events": ["s3:ObjectCreated:*"], "filter": {"suffix": ".json"}, "function": "node-s3"}]
    assert api.put("/api/v1/buckets/e2e/notifications/", configs, format="json").status_code == 200
    assert api.put("/api/v1/buckets/e2e/objects/" + quote(KEY), data=b"12345", content_type="text/plain").status_code == 200
    assert api.put("/api/v1/buckets/e2e/objects/" + quote(KEY + ".json"), data=b"{}", content_type="application/json").status_code == 200
    node, py = wait_final(2)
    assert py.status == InvocationStatus.SUCCEEDED, py.logs
    assert json.loads(py.result) == {"bucket": "e2e", "key": KEY, "size": 5}
    assert f"got {KEY} from e2e" in py.logs
    assert node.status == InvocationStatus.SUCCEEDED, node.logs
    assert json.loads(node.result) == {"statusCode": 200}
    assert f"Processing new file: {KEY}.json from bucket: e2e" in node.logs


def test_at_least_once_when_the_broker_is_down_at_upload(api, request):
    create(api, "py-s3", "python3.11", "index.py", PYTHON_HANDLER)
    api.post("/api/v1/buckets/", {"name": "outage"}, format="json")
    api.put("/api/v1/buckets/outage/notifications/", [{"id": "all", "events": ["s3:ObjectCreated:*"], "function": "py-s3"}], format="json")
    with mock.patch("celery.app.base.Celery.send_task", side_effect=ConnectionError("broker down")):
        response = api.put("/api/v1/buckets/outage/objects/" + quote(KEY), data=b"abc", content_type="text/plain")
    assert response.status_code == 200  # the upload succeeds; the notification is recorded, not lost
    invocation = Invocation.objects.get(trigger=Trigger.S3)
    assert invocation.status == InvocationStatus.QUEUED
    request.getfixturevalue("worker")  # a worker comes (back)
    time.sleep(1.0)
    assert Invocation.objects.get(pk=invocation.pk).status == InvocationStatus.QUEUED  # no message was ever sent
    Invocation.objects.filter(pk=invocation.pk).update(queued_at=timezone.now() - timezone.timedelta(seconds=REDISPATCH_AFTER_S + 1))
    assert invocations_reap()["redispatched"] >= 1
    (done,) = wait_final(1)
    assert done.status == InvocationStatus.SUCCEEDED, done.logs
    assert json.loads(done.result)["key"] == KEY
