"""Bucket notifications: configuration rules, which writes fire, and the exact S3 event record."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import quote, unquote_plus

import pytest
from django.test import override_settings

from events.s3 import EVENT_TYPES
from events.services import NOTIFICATIONS_MAX
from invoker.models import Invocation, InvocationType, Trigger
from storage import services
from storage.models import Bucket

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(api, make_function):
    make_function("on-upload")
    make_function("other")
    assert api.post("/api/v1/buckets/", {"name": "inbox"}, format="json").status_code == 201
    return api


def notify(api, configs):
    return api.put("/api/v1/buckets/inbox/notifications/", configs, format="json")


def put(api, key, body=b"data"):
    response = api.put("/api/v1/buckets/inbox/objects/" + quote(key, safe="/"), data=body, content_type="text/plain")
    assert response.status_code == 200, response.content
    return response


def post(api, name, body=b"form"):
    upload = io.BytesIO(body)
    upload.name = name
    response = api.post("/api/v1/buckets/inbox/objects/", {"file": [upload]}, format="multipart")
    assert response.status_code == 201, response.content


def records():
    return [json.loads(i.payload)["Records"][0] for i in Invocation.objects.filter(trigger=Trigger.S3).order_by("queued_at")]


def test_put_and_get_configurations(setup):
    configs = [{"id": "images", "events": ["s3:ObjectCreated:*"], "filter": {"prefix": "img/", "suffix": ".jpg"}, "function": "on-upload"},
               {"id": "gone", "events": ["s3:ObjectRemoved:Delete"], "filter": {}, "function": "other"}]
    response = notify(setup, configs)
    assert response.status_code == 200, response.content
    expected = [dict(configs[0]), {**configs[1], "filter": {"prefix": "", "suffix": ""}}]
    assert response.json() == expected
    assert setup.get("/api/v1/buckets/inbox/notifications/").json() == expected
    assert notify(setup, []).json() == []


@pytest.mark.parametrize(("a", "b"), [
    ({"events": ["s3:ObjectCreated:*"]}, {"events": ["s3:ObjectCreated:Put"]}),
    ({"events": ["s3:ObjectCreated:Put"], "filter": {"prefix": "a/"}}, {"events": ["s3:ObjectCreated:Put"], "filter": {"prefix": "a/b/"}}),
    ({"events": ["s3:ObjectRemoved:*"], "filter": {"suffix": ".jpg"}}, {"events": ["s3:ObjectRemoved:Delete"], "filter": {"suffix": "x.jpg"}}),
    ({"events": ["s3:ObjectCreated:Post"]}, {"events": ["s3:ObjectCreated:Post"], "filter": {"prefix": "x"}}),
])
def test_overlapping_configurations_refused(setup, a, b):
    response = notify(setup, [{"id": "a", "function": "on-upload", **a}, {"id": "b", "function": "other", **b}])
    assert response.status_code == 400
    assert "overlap" in response.json()["error"]["message"].lower()


@pytest.mark.parametrize(("a", "b"), [
    ({"events": ["s3:ObjectCreated:*"]}, {"events": ["s3:ObjectRemoved:*"]}),
    ({"events": ["s3:ObjectCreated:Put"]}, {"events": ["s3:ObjectCreated:Post"]}),
    ({"events": ["s3:ObjectCreated:*"], "filter": {"prefix": "a/"}}, {"events": ["s3:ObjectCreated:*"], "filter": {"prefix": "b/"}}),
    ({"events": ["s3:ObjectCreated:*"], "filter": {"suffix": ".jpg"}}, {"events": ["s3:ObjectCreated:*"], "filter": {"suffix": ".png"}}),
])
def test_disjoint_configurations_accepted(setup, a, b):
    assert notify(setup, [{"id": "a", "function": "on-upload", **a}, {"id": "b", "function": "other", **b}]).status_code == 200


@pytest.mark.parametrize("bad", [
    {"id": "x", "events": ["s3:ObjectCreated:Nope"], "function": "on-upload"},
    {"id": "x", "events": [], "function": "on-upload"},
    {"id": "x", "events": ["s3:ObjectCreated:*"]},
    {"id": "x", "events": ["s3:ObjectCreated:*"], "function": "on-upload", "filter": {"infix": "a"}},
    {"id": "x" * 256, "events": ["s3:ObjectCreated:*"], "function": "on-upload"},
    "not an object",
])
def test_invalid_configurations(setup, bad):
    response = notify(setup, [bad])
    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_unknown_function_and_limit(setup):
    assert notify(setup, [{"id": "x", "events": ["s3:ObjectCreated:*"], "function": "ghost"}]).status_code == 404
    many = [{"id": f"c{i}", "events": ["s3:ObjectCreated:*"], "filter": {"prefix": f"p{i:03d}/"}, "function": "on-upload"} for i in range(NOTIFICATIONS_MAX)]
    assert notify(setup, many).status_code == 200
    refused = notify(setup, many + [{"id": "one-more", "events": ["s3:ObjectRemoved:*"], "function": "on-upload"}])
    assert refused.status_code == 400


# (configured event, action) -> fires?
ACTIONS = ["put", "post", "copy", "complete", "delete", "delete-missing"]
FIRES = {
    "s3:ObjectCreated:*": {"put", "post", "copy", "complete"},
    "s3:ObjectCreated:Put": {"put"},
    "s3:ObjectCreated:Post": {"post"},
    "s3:ObjectCreated:Copy": {"copy"},
    "s3:ObjectCreated:CompleteMultipartUpload": {"complete"},
    "s3:ObjectRemoved:*": {"delete"},
    "s3:ObjectRemoved:Delete": {"delete"},
}
EVENT_NAMES = {"put": "ObjectCreated:Put", "post": "ObjectCreated:Post", "copy": "ObjectCreated:Copy", "complete": "ObjectCreated:CompleteMultipartUpload", "delete": "ObjectRemoved:Delete"}


def act(api, action, key):
    bucket = Bucket.objects.get(name="inbox")
    if action == "put":
        put(api, key)
    elif action == "post":
        post(api, key)
    elif action in ("copy", "complete"):
        services.object_put(bucket=bucket, key=key, body=io.BytesIO(b"c"), size=1, event_name=EVENT_NAMES[action])
    elif action == "delete":
        services.object_put(bucket=bucket, key=key, body=io.BytesIO(b"d"), size=1, event_name="ObjectCreated:Copy")
        Invocation.objects.all().delete()
        assert api.delete("/api/v1/buckets/inbox/objects/" + quote(key)).status_code == 204
    else:
        assert api.delete("/api/v1/buckets/inbox/objects/" + quote(key)).status_code == 204


@pytest.mark.parametrize("event_type", list(FIRES))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_event_type_and_action(setup, event_type, action):
    assert set(FIRES) == set(EVENT_TYPES)
    assert notify(setup, [{"id": "cfg", "events": [event_type], "function": "on-upload"}]).status_code == 200
    act(setup, action, "file.txt")
    fired = records()
    if action in FIRES[event_type]:
        assert [r["eventName"] for r in fired] == [EVENT_NAMES[action]]
        invocation = Invocation.objects.get(trigger=Trigger.S3)
        assert invocation.invocation_type == InvocationType.EVENT
        assert invocation.trigger_detail == {"bucket": "inbox", "key": "file.txt", "version_id": "null", "event_name": EVENT_NAMES[action], "sequencer": fired[0]["s3"]["object"]["sequencer"], "configuration_id": "cfg"}
    else:
        assert fired == []


@pytest.mark.parametrize(("key_filter", "key", "fires"), [
    ({}, "anything", True),
    ({"prefix": "img/"}, "img/a.jpg", True),
    ({"prefix": "img/"}, "doc/a.jpg", False),
    ({"prefix": "img/"}, "IMG/a.jpg", False),
    ({"suffix": ".jpg"}, "img/a.jpg", True),
    ({"suffix": ".jpg"}, "img/a.jpeg", False),
    ({"prefix": "img/", "suffix": ".jpg"}, "img/x/y.jpg", True),
    ({"prefix": "img/", "suffix": ".jpg"}, "img/y.png", False),
    ({"prefix": "img/", "suffix": ".jpg"}, "doc/y.jpg", False),
    ({"prefix": "with space/"}, "with space/é+.txt", True),
])
def test_key_filters(setup, key_filter, key, fires):
    assert notify(setup, [{"id": "f", "events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], "filter": key_filter, "function": "on-upload"}]).status_code == 200
    put(setup, key)
    assert setup.delete("/api/v1/buckets/inbox/objects/" + quote(key, safe="/")).status_code == 204
    assert [r["eventName"] for r in records()] == (["ObjectCreated:Put", "ObjectRemoved:Delete"] if fires else [])


def test_one_write_fires_each_matching_configuration(setup):
    notify(setup, [{"id": "jpg", "events": ["s3:ObjectCreated:*"], "filter": {"suffix": ".jpg"}, "function": "on-upload"},
                   {"id": "img", "events": ["s3:ObjectRemoved:*"], "filter": {"prefix": "img/"}, "function": "other"},
                   {"id": "png", "events": ["s3:ObjectCreated:Put"], "filter": {"suffix": ".png"}, "function": "other"}])
    put(setup, "img/a.jpg")
    assert [(i.function_name, i.trigger_detail["configuration_id"]) for i in Invocation.objects.all()] == [("on-upload", "jpg")]


@override_settings(KILN_REGION="eu-west-3", KILN_ACCOUNT_ID="123456789012")
def test_exact_event_shape(setup):
    notify(setup, [{"id": "shape", "events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], "function": "on-upload"}])
    key = "dir/my file+ü (1).txt"
    put(setup, key, b"hello")
    put(setup, key, b"hello again")
    setup.delete("/api/v1/buckets/inbox/objects/" + quote(key, safe="/"))
    first, second, removed = records()
    assert set(first) == {"eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity", "requestParameters", "responseElements", "s3"}
    assert first["eventVersion"] == "2.1" and first["eventSource"] == "aws:s3" and first["awsRegion"] == "eu-west-3"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["eventTime"])
    assert first["eventName"] == "ObjectCreated:Put"
    assert first["userIdentity"] == {"principalId": "KILN:owner"}
    assert first["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert set(first["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    s3 = first["s3"]
    assert set(s3) == {"s3SchemaVersion", "configurationId", "bucket", "object"}
    assert s3["s3SchemaVersion"] == "1.0" and s3["configurationId"] == "shape"
    assert s3["bucket"]["name"] == "inbox" and s3["bucket"]["arn"] == "arn:aws:s3:::inbox"
    assert set(s3["bucket"]["ownerIdentity"]) == {"principalId"}
    assert s3["object"]["key"] == "dir/my+file%2B%C3%BC+%281%29.txt"
    assert unquote_plus(s3["object"]["key"]) == key
    assert s3["object"]["size"] == 5 and s3["object"]["eTag"] == "5d41402abc4b2a76b9719d911017c592"
    assert set(s3["object"]) == {"key", "size", "eTag", "sequencer"}
    assert removed["eventName"] == "ObjectRemoved:Delete"
    assert set(removed["s3"]["object"]) == {"key", "sequencer"}
    sequencers = [first["s3"]["object"]["sequencer"], second["s3"]["object"]["sequencer"], removed["s3"]["object"]["sequencer"]]
    assert all(re.fullmatch(r"[0-9A-F]+", s) for s in sequencers)
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 3


def test_history_filters_by_bucket(setup):
    notify(setup, [{"id": "all", "events": ["s3:ObjectCreated:*"], "function": "on-upload"}])
    put(setup, "a.txt")
    put(setup, "b.txt")
    listed = setup.get("/api/v1/invocations/?bucket=inbox").json()["results"]
    assert len(listed) == 2 and {r["trigger"]["key"] for r in listed} == {"a.txt", "b.txt"}
    assert setup.get("/api/v1/invocations/?bucket=elsewhere").json()["results"] == []
    per_key = setup.get("/api/v1/buckets/inbox/invocations/?key=a.txt").json()["results"]
    assert [r["trigger"]["key"] for r in per_key] == ["a.txt"]


def test_failed_subscriber_rolls_back_the_write(setup, monkeypatch):
    """The object and its pending notification commit together: if recording fails, the write fails."""
    notify(setup, [{"id": "all", "events": ["s3:ObjectCreated:*"], "function": "on-upload"}])

    def broken(**kwargs):
        raise RuntimeError("database said no")

    monkeypatch.setattr("events.subscribers.invocation_submit", broken)
    with pytest.raises(RuntimeError):
        services.object_put(bucket=Bucket.objects.get(name="inbox"), key="k", body=io.BytesIO(b"x"), size=1)
    assert not Bucket.objects.get(name="inbox").contents.exists()
