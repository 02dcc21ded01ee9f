"""Cold starts served by a runtime started ahead of need: same behaviour, the function's own configuration."""

from __future__ import annotations

import time

import pytest

from functions.limits import EPHEMERAL_DEFAULT_MB, NETWORK_OUTBOUND
from tests.conftest import invoke

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker")]


def environments(client) -> list[dict]:
    return [env for worker in client.get("/healthz").json()["checks"]["workers"].get("details", []) for env in worker["environments"]]


def wait_for_held_spare(client, runtime: str, memory: int, seconds: float = 40) -> None:
    """Until the workers' heartbeat lists a spare of this runtime (and memory, where its kind has one) that holds:
    a Python or Node.js spare loads the AWS SDK before it does (invoker/sdkpreload.py), seconds on a busy machine."""
    since = time.time()
    deadline = since + seconds
    while time.time() < deadline:
        workers = client.get("/healthz").json()["checks"]["workers"].get("details", [])
        # Only a heartbeat written from now on (every 5 s): an older one may list the spare the last cold start took.
        # The whole kind: a spare other tests left (another /tmp size or network setting) would not serve this function.
        if any(w.get("at", 0) >= since and s["runtime"] == runtime and s["holding"] and s["memory_size"] in (0, memory)
               and s["ephemeral_storage"] == EPHEMERAL_DEFAULT_MB and s["network"] == NETWORK_OUTBOUND for w in workers for s in w.get("spares", [])):
            return
        time.sleep(0.5)
    raise AssertionError(f"no spare of {runtime} held within {seconds} s")


@pytest.mark.parametrize("runtime,memory", [("python3.11", 384), ("nodejs20.x", 448)])
def test_second_cold_start_of_a_kind_takes_a_prewarmed_runtime(api, make_function, runtime, memory):
    tag = runtime[:4]
    make_function(f"kind-a-{tag}", "echo", runtime=runtime, memory_size=memory)
    assert invoke(api, f"kind-a-{tag}", {"a": 1}).json() == {"a": 1}  # the first of its kind: started on demand
    wait_for_held_spare(api, runtime, memory)  # meanwhile the worker starts a runtime of this kind ahead of need
    make_function(f"kind-b-{tag}", "env", runtime=runtime, memory_size=memory, environment={"ONLY_B": "yes"})
    response = invoke(api, f"kind-b-{tag}")
    env = response.json()
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == f"kind-b-{tag}" and env["ONLY_B"] == "yes"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(memory) and env["_HANDLER"] == "index.handler"
    assert "DATABASE_URL" not in env and "SECRET_KEY" not in env
    record = api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()
    assert record["cold_start"] is True and record["init_duration_ms"] > 0
    deadline = time.time() + 12
    mine: list[dict] = []
    while time.time() < deadline:
        mine = [e for e in environments(api) if e["function"] == f"kind-b-{tag}"]
        if mine:
            break
        time.sleep(0.5)
    assert mine and mine[0]["prewarmed"] is True


NODE_OPTIONS_HANDLER = "exports.handler = async () => ({maxHeaderSize: require('http').maxHeaderSize, options: process.env.NODE_OPTIONS});\n"


def test_node_options_reach_node_so_such_a_function_never_takes_a_spare(api, make_function):
    """NODE_OPTIONS is read by node when it starts: a function that sets it is started on demand with it."""
    make_function("nodeopt-first", "echo", runtime="nodejs20.x")
    assert invoke(api, "nodeopt-first", {"a": 1}).json() == {"a": 1}
    wait_for_held_spare(api, "nodejs20.x", 128)  # a spare of this kind waits, and is not given to the next one
    body = {"name": "nodeopt", "runtime": "nodejs20.x", "handler": "index.handler", "code": {"files": {"index.js": NODE_OPTIONS_HANDLER}},
            "environment": {"NODE_OPTIONS": "--max-http-header-size=23456"}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    response = invoke(api, "nodeopt")
    assert response.json() == {"maxHeaderSize": 23456, "options": "--max-http-header-size=23456"}
    mine = [e for e in environments(api) if e["function"] == "nodeopt"]
    deadline = time.time() + 12
    while not mine and time.time() < deadline:
        time.sleep(0.5)
        mine = [e for e in environments(api) if e["function"] == "nodeopt"]
    assert mine and mine[0]["prewarmed"] is False


ALLOCATE = (
    "import os\n\n"
    "def handler(event, context):\n"
    "    block = b'x' * (event['mb'] << 20)  # touched, so it counts against the memory limit\n"
    "    return {'allocated_mb': len(block) >> 20, 'memory': os.environ['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'], 'limit': context.memory_limit_in_mb}\n"
)


def test_a_prewarmed_python_runtime_takes_each_functions_own_memory_limit(api):
    """Python runtimes are pre-started for any memory size: the limit is set when one is given its function."""
    for name, memory in (("mem-big", 704), ("mem-small", 192)):
        body = {"name": name, "runtime": "python3.11", "handler": "index.handler", "memory_size": memory, "timeout": 30, "code": {"files": {"index.py": ALLOCATE}}}
        assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    time.sleep(1.5)  # a Python runtime is pre-started at worker start and after each cold start
    big = invoke(api, "mem-big", {"mb": 500})
    assert big.json() == {"allocated_mb": 500, "memory": "704", "limit": "704"}  # above any earlier limit: raised
    time.sleep(1.5)
    small = invoke(api, "mem-small", {"mb": 400})  # past 192 MB: the limit was lowered for this function
    assert small.json()["errorType"] == "Runtime.OutOfMemory", small.json()
    deadline, prewarmed = time.time() + 12, {}
    while "mem-big" not in prewarmed and time.time() < deadline:  # the worker's heartbeat lists its environments
        prewarmed = {e["function"]: e["prewarmed"] for e in environments(api)}
        time.sleep(0.5)
    assert prewarmed.get("mem-big") is True
    record = api.get(f"/api/v1/invocations/{small['X-Kiln-Request-Id']}/").json()
    assert record["status"] == "failed" and record["max_memory_used_mb"] <= 192


CHILD_ENV = (
    "import subprocess\n\n"
    "def handler(event, context):\n"
    "    return subprocess.run(['/usr/bin/env'], capture_output=True, text=True).stdout.splitlines()\n"
)


def test_processes_a_prewarmed_python_function_starts_get_its_environment(api):
    """The configuration a pre-started runtime receives reaches the function's child processes too."""
    body = {"name": "child-env", "runtime": "python3.11", "handler": "index.handler", "environment": {"GREETING": "héllo"},
            "code": {"files": {"index.py": CHILD_ENV}}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    lines = invoke(api, "child-env").json()
    assert "GREETING=héllo" in lines and "AWS_LAMBDA_FUNCTION_NAME=child-env" in lines
    assert any(line.startswith("_X_AMZN_TRACE_ID=Root=1-") for line in lines), lines


CHILD_FDS = (
    "import os\n\n"
    "def handler(event, context):\n"
    "    os.system('ls -l /proc/$$/fd > /tmp/fds 2>&1')  # a shell inherits whatever is not close-on-exec\n"
    "    return open('/tmp/fds').read().splitlines()\n"
)


def test_processes_a_function_starts_do_not_inherit_the_runtime_api_connection(api):
    body = {"name": "child-fds", "runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": CHILD_FDS}}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    lines = invoke(api, "child-fds").json()
    assert any("/proc/" in line or "pipe:" in line for line in lines), lines  # the listing ran
    assert not any("socket:" in line for line in lines), lines
