"""The REST API's OpenAPI schema is complete and valid: drf-spectacular describes every view, with no operationId
collision and no view it must guess or skip (issue 15's schema accuracy)."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command


@pytest.mark.django_db
def test_the_schema_validates_with_no_warning(tmp_path) -> None:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))  # raises on any warning or error
    schema = yaml.safe_load(target.read_text())
    operations = [op["operationId"] for path in schema["paths"].values() for method, op in path.items() if isinstance(op, dict) and "operationId" in op]
    assert len(operations) == len(set(operations))
    assert not [o for o in operations if o[-1].isdigit() and o[-2] == "_"]  # no numeral suffix drf-spectacular adds to resolve a collision
    for listed in ("v1_functions_list", "v1_roles_list", "v1_buckets_objects_list", "v1_functions_aliases_list", "v1_functions_test_events_list"):
        assert listed in operations
    assert "/api/v1/buckets/{name}/notifications/" in schema["paths"] and "/api/v1/buckets/{name}/objects/" in schema["paths"]
    token = schema["paths"]["/api/v1/auth/token/"]  # sign in (a new token), revoke (the calling one)
    assert token["post"]["operationId"] == "v1_auth_token_create" and "200" in token["post"]["responses"]
    assert token["delete"]["operationId"] == "v1_auth_token_destroy" and "204" in token["delete"]["responses"]
