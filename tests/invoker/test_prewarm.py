"""Cold starts served by a runtime started ahead of need: same behaviour, the function's own configuration."""

from __future__ import annotations

import time

import pytest

from tests.conftest import invoke

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker")]


def environments(client) -> list[dict]:
    return [env for worker in client.get("/healthz").json()["checks"]["workers"].get("details", []) for env in worker["environments"]]


@pytest.mark.parametrize("runtime,memory", [("python3.11", 384), ("nodejs20.x", 448)])
def test_second_cold_start_of_a_kind_takes_a_prewarmed_runtime(api, make_function, runtime, memory):
    tag = runtime[:4]
    make_function(f"kind-a-{tag}", "echo", runtime=runtime, memory_size=memory)
    assert invoke(api, f"kind-a-{tag}", {"a": 1}).json() == {"a": 1}  # the first of its kind: started on demand
    time.sleep(1.5)  # meanwhile the worker starts a runtime of this kind ahead of need
    make_function(f"kind-b-{tag}", "env", runtime=runtime, memory_size=memory, environment={"ONLY_B": "yes"})
    response = invoke(api, f"kind-b-{tag}")
    env = response.json()
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == f"kind-b-{tag}" and env["ONLY_B"] == "yes"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(memory) and env["_HANDLER"] == "index.handler"
    assert "DATABASE_URL" not in env and "SECRET_KEY" not in env
    record = api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()
    assert record["cold_start"] is True and record["init_duration_ms"] > 0
    deadline = time.time() + 12
    while time.time() < deadline:
        mine = [e for e in environments(api) if e["function"] == f"kind-b-{tag}"]
        if mine:
            break
        time.sleep(0.5)
    assert mine and mine[0]["prewarmed"] is True
