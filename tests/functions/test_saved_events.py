"""Saved test events: the store behind the console's Test page, its limit of 10, privacy; templates."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from apitokens.services import api_token_issue
from functions import limits

pytestmark = pytest.mark.django_db
URL = "/api/v1/functions/tested/test-events/"


@pytest.fixture
def teammate_api(db) -> APIClient:
    user = User.objects.create_user(username="teammate", password="kiln-pass-123", is_staff=True, is_superuser=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    return client


@pytest.fixture
def tested(make_function):
    return make_function("tested")


def test_create_list_update_delete(api, tested):
    created = api.post(URL, {"name": "hello", "event": {"key1": "value1"}}, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["name"] == "hello" and data["event"] == {"key1": "value1"} and data["shared"] is False and data["owner"] == "owner"
    assert [e["name"] for e in api.get(URL).json()["test_events"]] == ["hello"]
    assert api.get(URL + "hello/").json()["event"] == {"key1": "value1"}
    updated = api.put(URL + "hello/", {"event": [1, 2, 3], "shared": True}, format="json").json()
    assert updated["event"] == [1, 2, 3] and updated["shared"] is True
    renamed = api.put(URL + "hello/", {"name": "hello.v2"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "hello.v2"
    assert api.get(URL + "hello/").status_code == 404
    assert api.delete(URL + "hello.v2/").status_code == 204
    assert api.get(URL).json()["test_events"] == []


def test_at_most_ten_per_function(api, teammate_api, tested):
    assert limits.TEST_EVENTS_MAX == 10
    for i in range(limits.TEST_EVENTS_MAX - 1):
        assert api.post(URL, {"name": f"e{i}", "event": {"i": i}}, format="json").status_code == 201
    tenth = teammate_api.post(URL, {"name": "tenth", "event": {}, "shared": False}, format="json")  # private ones count too
    assert tenth.status_code == 201
    eleventh = api.post(URL, {"name": "eleventh", "event": {}}, format="json")
    assert eleventh.status_code == 400
    error = eleventh.json()["error"]
    assert error["code"] == "TestEventLimitExceeded" and error["details"] == {"limit": 10, "count": 10} and "10" in error["message"]
    assert api.delete(URL + "e0/").status_code == 204
    assert api.post(URL, {"name": "eleventh", "event": {}}, format="json").status_code == 201


def test_private_events_are_seen_only_by_their_creator(api, teammate_api, tested):
    api.post(URL, {"name": "mine", "event": {"secret": 1}}, format="json")
    api.post(URL, {"name": "ours", "event": {"team": 1}, "shared": True}, format="json")
    assert [e["name"] for e in teammate_api.get(URL).json()["test_events"]] == ["ours"]
    for method in ("get", "put", "delete"):
        response = getattr(teammate_api, method)(URL + "mine/", {"event": {}} if method == "put" else None, format="json")
        assert response.status_code == 404, method
    assert teammate_api.put(URL + "ours/", {"event": {"team": 2}}, format="json").json()["event"] == {"team": 2}
    assert [e["name"] for e in api.get(URL).json()["test_events"]] == ["mine", "ours"]
    # a name taken by someone's private event is refused without showing it
    taken = teammate_api.post(URL, {"name": "mine", "event": {}}, format="json")
    assert taken.status_code == 409 and "secret" not in taken.content.decode()


@pytest.mark.parametrize("body,field", [
    ({"name": "", "event": {}}, "name"),
    ({"name": "x" * (limits.TEST_EVENT_NAME_MAX + 1), "event": {}}, "name"),
    ({"name": "has space", "event": {}}, "name"),
    ({"name": "ok"}, "event"),
    ({"name": "ok", "event": {}, "shared": "yes"}, "shared"),
])
def test_bad_bodies(api, tested, body, field):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400 and response.json()["error"]["details"]["field"] == field


def test_name_length_edge(api, tested):
    assert api.post(URL, {"name": "x" * limits.TEST_EVENT_NAME_MAX, "event": None}, format="json").status_code == 201


def test_unknown_function_and_anonymous(api, anon):
    assert api.get("/api/v1/functions/ghost/test-events/").status_code == 404
    assert anon.get("/api/v1/functions/ghost/test-events/").status_code in (401, 403)


def test_templates_are_the_shapes_kiln_delivers(api):
    templates = {t["id"]: t for t in api.get("/api/v1/test-event-templates/").json()["templates"]}
    assert set(templates) >= {"apigateway-http-v1", "apigateway-http-v2", "s3-put"}
    v1 = templates["apigateway-http-v1"]["event"]
    assert v1["version"] == "1.0" and v1["httpMethod"] == "POST" and v1["pathParameters"] == {"id": "42"} and v1["requestContext"]["requestId"]
    v2 = templates["apigateway-http-v2"]["event"]
    assert v2["version"] == "2.0" and v2["routeKey"] == "POST /items/{id}" and v2["requestContext"]["http"]["method"] == "POST"
    assert v2["body"] == '{"name": "a kiln-fired mug"}' and v2["isBase64Encoded"] is False
    record = templates["s3-put"]["event"]["Records"][0]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "uploads/photo+1.jpg" and record["s3"]["bucket"]["arn"] == "arn:aws:s3:::example-bucket"
