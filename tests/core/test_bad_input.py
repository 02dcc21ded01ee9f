"""Bad input to the REST API gets a 4xx in the error envelope, never a 500 or an HTML page (issue 15's findings)."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

DEEP = "[" * 10_000 + "]" * 10_000


def _envelope(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"]
    return body["error"]


@pytest.mark.django_db
def test_json_nested_ten_thousand_deep_is_a_400_even_before_login(api: APIClient, anon: APIClient) -> None:
    _envelope(anon.post("/api/v1/auth/token/", DEEP, content_type="application/json"), 400)
    _envelope(api.post("/api/v1/functions/", DEEP, content_type="application/json"), 400)
    _envelope(api.post("/api/v1/roles/", DEEP, content_type="application/json"), 400)


@pytest.mark.django_db
def test_bodies_of_the_wrong_type_are_400(api: APIClient) -> None:
    _envelope(api.post("/api/v1/layers/", json.dumps([1, 2]), content_type="application/json"), 400)
    _envelope(api.post("/api/v1/roles/", {"name": 7, "policy_document": {}}, format="json"), 400)
    created = api.post("/api/v1/functions/", {"name": "typed", "runtime": "python3.11", "handler": "index.handler",
                                              "code": {"files": {"index.py": "def handler(e, c):\n    return 1\n"}}, "role": 12}, format="json")
    _envelope(created, 400)
    ok = api.post("/api/v1/functions/", {"name": "typed", "runtime": "python3.11", "handler": "index.handler",
                                         "code": {"files": {"index.py": "def handler(e, c):\n    return 1\n"}}}, format="json")
    assert ok.status_code == 201
    _envelope(api.patch("/api/v1/functions/typed/", {"role": ["a"]}, format="json"), 400)
    _envelope(api.patch("/api/v1/functions/typed/", "role=5&role=6", content_type="application/x-www-form-urlencoded"), 400)


@pytest.mark.django_db
def test_unknown_api_paths_and_bearer_tokens(api: APIClient, anon: APIClient) -> None:
    error = _envelope(api.get("/api/v1/no-such-thing/"), 404)
    assert error["code"] == "NotFound"
    bearer = anon.get("/api/v1/functions/", HTTP_AUTHORIZATION="Bearer abc")
    assert bearer.status_code == 401 and "Token" in bearer.json()["error"]["message"]


@pytest.mark.django_db
def test_log_type_is_validated_like_invocation_type(api: APIClient) -> None:
    error = _envelope(api.post("/api/v1/functions/any/invoke/?log_type=Everything", "{}", content_type="application/json"), 400)
    assert error["details"]["field"] == "log_type"
