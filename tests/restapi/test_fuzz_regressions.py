"""What ``make fuzz``'s Schemathesis run (fuzz/restapi.py) found in the REST API's schema: the errors the API answers
were not documented (status_code_conformance: a 404 or a 400 "undocumented"), and two list operations were
described as bare arrays while they answer an object (response_schema_conformance)."""

from __future__ import annotations

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from restapi.schema import error_statuses

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")]


def _json_schema(node: object) -> object:
    """OpenAPI 3.0's ``nullable`` as JSON Schema's ``type: [..., "null"]``."""
    if isinstance(node, dict):
        out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") and "type" in node:
            out["type"] = [node["type"], "null"]
        return out
    return [_json_schema(v) for v in node] if isinstance(node, list) else node


def _validate(schema: dict, response_schema: dict, value: object) -> None:
    """``value`` against an OpenAPI response schema whose ``$ref``\\ s point into ``schema``'s components."""
    jsonschema.validate(value, _json_schema({**response_schema, "components": schema["components"]}))


def test_every_operation_documents_its_error_statuses_in_the_envelope(schema: dict) -> None:
    operations = _operations(schema)
    assert len(operations) > 60
    for path, method, op in operations:
        for status in error_statuses(method):
            assert status in op["responses"], (method, path, status)
            if status not in ("412",):
                content = op["responses"][status].get("content", {})
                assert "application/json" in content, (method, path, status)
        assert set(error_statuses("get")) <= set(op["responses"])
    assert {"409", "413", "415"} <= set(schema["paths"]["/api/v1/functions/"]["post"]["responses"])
    assert "409" not in schema["paths"]["/api/v1/functions/"]["get"]["responses"]


def test_a_404_and_a_400_conform_to_the_documented_envelope(schema: dict, api: APIClient) -> None:
    missing = api.get("/api/v1/functions/nope/")
    assert missing.status_code == 404
    envelope = schema["paths"]["/api/v1/functions/{name}/"]["get"]["responses"]["404"]["content"]["application/json"]["schema"]
    _validate(schema, envelope, missing.json())
    bad = api.get("/api/v1/invocations/?status=AAA")
    assert bad.status_code == 400
    _validate(schema, schema["paths"]["/api/v1/invocations/"]["get"]["responses"]["400"]["content"]["application/json"]["schema"], bad.json())


def test_bucket_and_invocation_lists_are_described_as_the_objects_they_answer(schema: dict, api: APIClient) -> None:
    """They were documented as arrays: ``{"buckets": []}`` and the cursor page ``{"next", "previous", "results"}`` violated it."""
    api.post("/api/v1/buckets/", {"name": "photos"}, format="json")
    for path in ("/api/v1/buckets/", "/api/v1/invocations/"):
        response = api.get(path)
        assert response.status_code == 200, response.content
        documented = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        _validate(schema, documented, response.json())
