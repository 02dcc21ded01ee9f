"""Causal chain and replay: every invocation's cause, parents and children, replays on $LATEST and the original revision."""

from __future__ import annotations

import io
import uuid

import pytest

from invoker.models import Invocation
from storage import services as storage_services
from storage.domain import RequestInfo
from storage.models import Bucket
from tests.conftest import invoke, wait_final

ECHO_V1 = "def handler(event, context):\n    return {'version': 1, 'event': event}\n"
ECHO_V2 = "def handler(event, context):\n    return {'version': 2, 'event': event}\n"


def _function(api, name, code=ECHO_V1):
    body = {"name": name, "runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": code}}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker")
def test_replay_on_latest_and_on_the_original_revision(api):
    _function(api, "replayed")
    first = invoke(api, "replayed", {"n": 1})
    original_id = first["X-Kiln-Request-Id"]
    original = api.get(f"/api/v1/invocations/{original_id}/").json()
    assert original["cause"] == {"type": "api", "user": "owner", "parent": None} and original["caused"] == []
    assert api.patch("/api/v1/functions/replayed/", {"code": {"files": {"index.py": ECHO_V2}}}, format="json").status_code == 200

    latest = api.post(f"/api/v1/invocations/{original_id}/replay/", {"qualifier": "$LATEST"}, format="json")
    assert latest.status_code == 202, latest.content
    assert latest.json()["replay_of"] == original_id and latest.json()["qualifier"] == "$LATEST" and latest.json()["revision"] == 2
    done = wait_final(api, latest.json()["request_id"])
    assert done["status"] == "succeeded" and done["result"] == {"version": 2, "event": {"n": 1}}
    assert done["cause"]["type"] == "replay" and done["cause"]["user"] == "owner" and done["cause"]["replay_of"] == original_id
    assert done["cause"]["parent"]["request_id"] == original_id and done["cause"]["parent"]["function"] == "replayed"
    assert done["parent_request_id"] == original_id and done["invocation_type"] == "RequestResponse"

    again = api.post(f"/api/v1/invocations/{original_id}/replay/", {"qualifier": "original"}, format="json").json()
    assert again["revision"] == 1
    assert wait_final(api, again["request_id"])["result"] == {"version": 1, "event": {"n": 1}}

    caused = api.get(f"/api/v1/invocations/{original_id}/").json()["caused"]
    assert [c["request_id"] for c in caused] == [latest.json()["request_id"], again["request_id"]]
    assert all(c["trigger"] == "replay" and c["function"] == "replayed" for c in caused)
    assert api.get("/api/v1/invocations/", {"trigger": "replay"}).json()["results"][0]["parent_request_id"] == original_id


@pytest.mark.django_db
def test_replay_refusals(api, make_function):
    make_function("gone")
    original = Invocation.objects.create(function=None, function_name="gone-long-ago", payload="{}", status="succeeded")
    assert api.post(f"/api/v1/invocations/{original.id}/replay/", {}, format="json").status_code == 404
    kept = Invocation.objects.create(function_id=Invocation._meta.get_field("function").related_model.objects.get(name="gone").pk, function_name="gone", payload="{}", status="succeeded")
    bad = api.post(f"/api/v1/invocations/{kept.id}/replay/", {"qualifier": "v7"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "qualifier"
    assert api.post(f"/api/v1/invocations/{kept.id}/replay/", {"qualifier": "original"}, format="json").status_code == 404  # no revision recorded
    assert api.post(f"/api/v1/invocations/{uuid.uuid4()}/replay/", {}, format="json").status_code == 404


@pytest.mark.django_db
def test_a_functions_write_records_its_invocation_as_parent(api, make_function):
    make_function("thumbs")
    assert api.post("/api/v1/buckets/", {"name": "photos"}, format="json").status_code == 201
    config = [{"id": "t", "events": ["s3:ObjectCreated:*"], "function": "thumbs"}]
    assert api.put("/api/v1/buckets/photos/notifications/", config, format="json").status_code == 200
    parent = Invocation.objects.create(function_name="writer", payload="{}", status="running")
    storage_services.object_put(bucket=Bucket.objects.get(name="photos"), key="in/a b.jpg", body=io.BytesIO(b"x"), size=1,
                                request=RequestInfo(principal_id="KILN:owner", invocation_id=str(parent.id)))
    child = Invocation.objects.get(function_name="thumbs")
    assert child.parent_id == parent.id and child.trigger == "s3"
    data = api.get(f"/api/v1/invocations/{child.id}/").json()
    assert data["cause"]["bucket"] == "photos" and data["cause"]["key"] == "in/a b.jpg" and data["cause"]["version_id"] == "null"
    assert data["cause"]["parent"]["request_id"] == str(parent.id) and data["cause"]["parent"]["function"] == "writer"
    assert [c["request_id"] for c in api.get(f"/api/v1/invocations/{parent.id}/").json()["caused"]] == [str(child.id)]
    # a parent row that is gone leaves its id
    parent_id = str(parent.id)
    parent.delete()
    assert api.get(f"/api/v1/invocations/{child.id}/").json()["cause"]["parent"] == {"request_id": parent_id, "function": None, "status": None, "trigger": None, "queued_at": None}
