"""Versions, aliases and asynchronous destinations through the REST API, with a real worker running the versions."""

from __future__ import annotations

from tests.conftest import invoke


def test_publish_alias_and_invoke_by_qualifier(api, make_function, worker, transactional_db) -> None:
    make_function("versioned", handler="context", memory_size=128)
    first = api.post("/api/v1/functions/versioned/versions/", {"description": "one"}, format="json")
    assert first.status_code == 201 and first.json()["version"] == "1" and first.json()["arn"].endswith(":versioned:1")
    assert api.post("/api/v1/functions/versioned/versions/", {}, format="json").json()["version"] == "1"  # unchanged $LATEST
    assert api.patch("/api/v1/functions/versioned/", {"memory_size": 256}, format="json").status_code == 200
    assert api.post("/api/v1/functions/versioned/versions/", {}, format="json").json()["version"] == "2"
    listed = api.get("/api/v1/functions/versioned/versions/").json()["versions"]
    assert [(v["version"], v["memory_size"]) for v in listed] == [("1", 128), ("2", 256)]
    by_version = invoke(api, "versioned", qualifier="1")
    assert by_version.status_code == 200 and by_version["X-Kiln-Executed-Version"] == "1"
    assert by_version.json()["function_version"] == "1" and by_version.json()["invoked_function_arn"].endswith(":versioned:1")
    alias = api.post("/api/v1/functions/versioned/aliases/", {"name": "prod", "function_version": "1", "routing": {"2": 1.0}}, format="json")
    assert alias.status_code == 201 and alias.json()["routing"] == {"2": 1.0}
    routed = invoke(api, "versioned", qualifier="prod")
    assert routed["X-Kiln-Executed-Version"] == "2" and routed.json()["function_version"] == "2"
    history = api.get(f"/api/v1/invocations/{routed['X-Kiln-Request-Id']}/").json()
    assert history["qualifier"] == "prod" and history["executed_version"] == "2"
    cleared = api.put("/api/v1/functions/versioned/aliases/prod/", {"routing": {}}, format="json").json()
    assert cleared["routing"] == {} and cleared["function_version"] == "1"
    assert invoke(api, "versioned", qualifier="prod")["X-Kiln-Executed-Version"] == "1"
    missing = invoke(api, "versioned", qualifier="7")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceNotFoundException"
    bad = api.post("/api/v1/functions/versioned/aliases/", {"name": "123", "function_version": "1"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidParameterValueException"
    weight = api.post("/api/v1/functions/versioned/aliases/", {"name": "w", "function_version": "1", "routing": {"2": 1.01}}, format="json")
    assert weight.status_code == 400
    assert api.delete("/api/v1/functions/versioned/aliases/prod/").status_code == 204
    assert api.get("/api/v1/functions/versioned/aliases/").json()["aliases"] == []


def test_event_invoke_config_destinations(api, make_function, transactional_db) -> None:
    make_function("source")
    make_function("target")
    arn = "arn:aws:lambda:us-east-1:000000000000:function:target"
    config = api.put("/api/v1/functions/source/event-invoke-config/", {"on_failure": arn, "maximum_retry_attempts": 0}, format="json")
    assert config.status_code == 200 and config.json()["on_failure"] == arn and config.json()["on_success"] is None
    bad = api.put("/api/v1/functions/source/event-invoke-config/", {"on_success": "arn:aws:sqs:us-east-1:000000000000:q", "maximum_retry_attempts": 2}, format="json")
    assert bad.status_code == 400
    assert api.get("/api/v1/functions/source/event-invoke-config/").json()["maximum_retry_attempts"] == 0  # nothing half-written
    unknown = api.put("/api/v1/functions/source/event-invoke-config/", {"on_success": "arn:aws:lambda:us-east-1:000000000000:function:ghost"}, format="json")
    assert unknown.status_code == 400 and "ghost" in unknown.json()["error"]["message"]
