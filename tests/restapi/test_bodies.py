"""Unknown fields in a REST request body are refused, naming them, on every operation that takes a body.

A misspelled setting (``memory`` for ``memory_size``) must not be accepted and silently dropped: 400
``InvalidParameterValueException``, the unknown and the accepted fields named, nothing written.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import ValidationFailed
from functions.models import Function
from iam.models import Role
from restapi.bodies import json_object
from storage.models import Bucket

pytestmark = pytest.mark.django_db


def test_json_object_keeps_known_fields_and_names_unknown_and_missing_ones() -> None:
    assert json_object({"a": 1}, allowed=("a", "b")) == {"a": 1}
    with pytest.raises(ValidationFailed) as unknown:
        json_object({"a": 1, "zz": 2, "memory": 3}, allowed=("a", "b"))
    assert unknown.value.message == "Unknown field(s): memory, zz. Accepted: a, b." and unknown.value.details["fields"] == ["memory", "zz"]
    with pytest.raises(ValidationFailed, match="b is required"):
        json_object({"a": 1}, allowed=("a", "b"), required=("b",))
    for not_an_object in ([1, 2], "text", 3, None):
        with pytest.raises(ValidationFailed, match="must be a JSON object"):
            json_object(not_an_object, allowed=("a",))


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "InvalidParameterValueException" and field in error["details"]["fields"], error
    assert f"Unknown field(s): {field}" in error["message"], error


def test_function_create_and_update_refuse_a_misspelled_setting(api, make_function) -> None:
    body = {"name": "typo", "runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": "def handler(e, c):\n    return e\n"}}, "memory": 512}
    _refused(api.post("/api/v1/functions/", body, format="json"), "memory")
    assert not Function.objects.filter(name="typo").exists()
    make_function("kept", memory_size=256)
    _refused(api.patch("/api/v1/functions/kept/", {"memory_size": 1024, "timout": 30}, format="json"), "timout")
    assert api.get("/api/v1/functions/kept/").json()["memory_size"] == 256  # nothing half-written


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("post", "/api/v1/functions/f/versions/", {"description": "v", "revisionid": "x"}, "revisionid"),
    ("post", "/api/v1/functions/f/aliases/", {"name": "live", "function_version": "$LATEST", "weights": {}}, "weights"),
    ("put", "/api/v1/functions/f/concurrency/", {"reserved": 1, "reserve": 2}, "reserve"),
    ("put", "/api/v1/functions/f/event-invoke-config/", {"maximum_retry_attempts": 1, "retries": 2}, "retries"),
    ("post", "/api/v1/functions/f/test-events/", {"name": "t", "event": {}, "public": True}, "public"),
])
def test_function_sub_resources_refuse_unknown_fields(api, make_function, method: str, path: str, body: dict, field: str) -> None:
    make_function("f")
    _refused(getattr(api, method)(path, body, format="json"), field)


def test_layers_roles_buckets_and_http_apis_refuse_unknown_fields(api) -> None:
    _refused(api.post("/api/v1/layers/", {"name": "l", "zip_base64": "", "runtimes": ["python3.11"]}, format="json"), "runtimes")
    _refused(api.post("/api/v1/roles/", {"name": "r", "policy_document": {"Version": "2012-10-17", "Statement": []}, "trust": {}}, format="json"), "trust")
    assert not Role.objects.filter(name="r").exists()
    _refused(api.post("/api/v1/buckets/", {"name": "photos", "region": "eu-west-1"}, format="json"), "region")
    assert not Bucket.objects.filter(name="photos").exists()
    _refused(api.post("/api/v1/http-apis/", {"name": "a", "stages": []}, format="json"), "stages")
