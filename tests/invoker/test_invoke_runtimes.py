"""Invoking functions for real: both runtimes, both Node module styles, context, errors, warm reuse."""

from __future__ import annotations

import pytest

from tests.conftest import invoke

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker")]


def test_node_example_runs_unmodified(api, make_function):
    make_function("hello", "hello", runtime="nodejs20.x")
    response = invoke(api, "hello", {"key": "value"})
    assert response.status_code == 200
    assert response.json() == {"statusCode": 200, "body": '{"message":"Hello from Lambda!"}'}
    record = api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()
    assert record["status"] == "succeeded"
    assert "\tINFO\tEvent: { key: 'value' }" in record["logs"]


@pytest.mark.parametrize("style", ["esm", "esm-type", "callback", "echo"])
def test_node_module_styles(api, make_function, style):
    make_function(f"node-{style}", style, runtime="nodejs20.x")
    response = invoke(api, f"node-{style}", {"n": 1})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {"n": 1} or body.get("got") == {"n": 1}


def test_python_echo_and_context(api, make_function):
    make_function("py-context", "context", memory_size=256)
    response = invoke(api, "py-context", {})
    body = response.json()
    request_id = response["X-Kiln-Request-Id"]
    assert body["function_name"] == "py-context"
    assert body["function_version"] == "$LATEST"
    assert body["aws_request_id"] == request_id
    assert body["invoked_function_arn"].endswith(":function:py-context")
    assert body["memory_limit_in_mb"] == "256"
    assert body["log_group_name"] == "/aws/lambda/py-context"
    assert 0 < body["remaining"] <= 3000


def test_node_context(api, make_function):
    make_function("node-context", "context", runtime="nodejs20.x")
    response = invoke(api, "node-context", {})
    body = response.json()
    assert body["functionName"] == "node-context"
    assert body["awsRequestId"] == response["X-Kiln-Request-Id"]
    assert 0 < body["remaining"] <= 3000


@pytest.mark.parametrize("runtime", ["python3.11", "nodejs20.x", "ruby3.3", "java17"])
def test_warm_reuse_and_cold_flag(api, make_function, runtime):
    name = "counter-" + runtime.replace(".", "")
    make_function(name, "counter", runtime=runtime)
    first, second = invoke(api, name), invoke(api, name)
    assert first.json() == {"count": 1}
    assert second.json() == {"count": 2}  # module state survived: same environment
    one = api.get(f"/api/v1/invocations/{first['X-Kiln-Request-Id']}/").json()
    two = api.get(f"/api/v1/invocations/{second['X-Kiln-Request-Id']}/").json()
    assert one["cold_start"] is True and one["init_duration_ms"] > 0
    assert "Init Duration:" in one["logs"] and "init ran" in one["logs"]
    assert two["cold_start"] is False and two["init_duration_ms"] is None
    assert "Init Duration" not in two["logs"] and "init ran" not in two["logs"]


def test_configuration_change_starts_new_environment(api, make_function):
    make_function("changing", "counter")
    assert invoke(api, "changing").json() == {"count": 1}
    assert invoke(api, "changing").json() == {"count": 2}
    assert api.patch("/api/v1/functions/changing/", {"memory_size": 256}, format="json").status_code == 200
    response = invoke(api, "changing")
    assert response.json() == {"count": 1}
    record = api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()
    assert record["cold_start"] is True and record["memory_size"] == 256
