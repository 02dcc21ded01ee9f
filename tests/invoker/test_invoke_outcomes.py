"""What becomes of an invocation: errors, init errors, timeouts, crashes, scrubbing, layers, async, logs."""

from __future__ import annotations

import json
import time

import pytest

from functions import limits
from functions.models import Function
from invoker.logs import LOG_CAP_BYTES
from tests import handlers
from tests.conftest import invoke, wait_final
from tests.handlers import zip_base64 as _zip

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker")]


def record(api, response):
    return api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()


@pytest.mark.parametrize("runtime", ["python3.11", "nodejs20.x", "ruby3.3", "java17"])
def test_handler_error_returns_lambda_error_object(api, make_function, runtime):
    make_function("raiser", "raise", runtime=runtime)
    response = invoke(api, "raiser", {"why": "testing"})
    assert response.status_code == 200
    assert response["X-Kiln-Function-Error"] == "Unhandled"
    error = response.json()
    data = record(api, response)
    assert data["status"] == "failed"
    if runtime.startswith("python"):
        assert error["errorType"] == "ValueError" and error["errorMessage"] == "boom: testing"
        assert any("raise ValueError" in line for line in error["stackTrace"])
        assert "[ERROR] ValueError: boom: testing" in data["logs"]
    elif runtime.startswith("ruby"):  # Lambda's Ruby runtime: Function<class>, the function's frames only
        assert error == {"errorMessage": "ruby boom: testing", "errorType": "Function<ArgumentError>", "stackTrace": ["/var/task/index.rb:2:in `handler'"]}
        assert response["X-Kiln-Function-Error"] == "Unhandled"
        assert 'Error raised from handler method\n{\n  "errorMessage": "ruby boom: testing",\n  "errorType": "Function<ArgumentError>"' in data["logs"]
    elif runtime.startswith("java"):  # Lambda's Java runtime: the exception's class name, its frames as Java prints them
        assert error["errorType"] == "java.lang.IllegalStateException" and error["errorMessage"] == "java boom: testing", error
        assert error["stackTrace"][0].startswith("example.Handler.handleRequest(Handler.java:"), error
        assert '"errorType":"java.lang.IllegalStateException"' in data["logs"]
    else:
        assert error["errorType"] == "TypeError" and error["errorMessage"] == "node boom"
        assert error["trace"][0].startswith("TypeError: node boom")
        assert data["error"]["stackTrace"][0].startswith("TypeError: node boom")
    assert data["error"]["errorType"] in ("ValueError", "TypeError", "Function<ArgumentError>", "java.lang.IllegalStateException")
    # the worker and the environment survive: the next call works
    make_function("after-error", "echo", runtime=runtime)
    assert invoke(api, "after-error", {"ok": 1}).json() == {"ok": 1}


@pytest.mark.parametrize("runtime,handler,error_type", [
    ("python3.11", "syntax", "Runtime.UserCodeSyntaxError"),
    ("python3.11", "nohandler", "Runtime.HandlerNotFound"),
    ("nodejs20.x", "syntax", "Runtime.UserCodeSyntaxError"),
    ("nodejs20.x", "nohandler", "Runtime.HandlerNotFound"),
    ("ruby3.3", "syntax", "Runtime.UserCodeSyntaxError"),
    ("ruby3.3", "nohandler", "Runtime.HandlerNotFound"),
    ("java17", "syntax", "Runtime.UserCodeSyntaxError"),
    ("java17", "nohandler", "Runtime.HandlerNotFound"),
])
def test_init_errors(api, make_function, runtime, handler, error_type):
    name = f"init-{handler}-{runtime[:4]}"
    make_function(name, handler, runtime=runtime)
    response = invoke(api, name)
    assert response["X-Kiln-Function-Error"] == "Unhandled"
    assert response.json()["errorType"] == error_type, record(api, response)["logs"]
    data = record(api, response)
    assert data["status"] == "failed" and data["error"]["errorType"] == error_type
    assert "START RequestId" in data["logs"] and "REPORT RequestId" in data["logs"]


SLOW_INIT = "import os, time\ntime.sleep(float(os.environ['INIT_SECONDS']))\n\ndef handler(event, context):\n    return 'initialised'\n"


def test_init_phase_is_limited_to_ten_seconds(api):
    """Init just under the limit completes (and is billed as Init Duration); just over it is stopped."""
    assert limits.INIT_TIMEOUT_S == 10
    for name, seconds in (("init-under", limits.INIT_TIMEOUT_S - 0.7), ("init-over", limits.INIT_TIMEOUT_S + 0.7)):
        body = {"name": name, "runtime": "python3.11", "handler": "index.handler", "timeout": 5, "environment": {"INIT_SECONDS": str(seconds)},
                "code": {"files": {"index.py": SLOW_INIT}}}
        assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    under = invoke(api, "init-under")
    assert under.status_code == 200 and under.json() == "initialised"
    assert record(api, under)["init_duration_ms"] >= (limits.INIT_TIMEOUT_S - 0.7) * 1000
    over = invoke(api, "init-over")
    assert over["X-Kiln-Function-Error"] == "Unhandled" and over.json()["errorType"] == "Runtime.InitTimeout", over.json()
    assert record(api, over)["status"] == "failed"


def test_missing_module_is_import_error(api):
    body = {"name": "nomodule", "runtime": "python3.11", "handler": "missing.handler", "code": {"files": {"index.py": "x = 1\n"}}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    error = invoke(api, "nomodule").json()
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'missing'" in error["errorMessage"]


@pytest.mark.parametrize("runtime", ["python3.11", "nodejs20.x", "ruby3.3", "java17"])
def test_timeout_is_killed_and_recorded(api, make_function, runtime):
    make_function("sleepy-" + runtime[:4], "sleep", runtime=runtime, timeout=1)
    started = time.monotonic()
    response = invoke(api, "sleepy-" + runtime[:4], {"seconds": 30})
    assert time.monotonic() - started < 10
    assert response["X-Kiln-Function-Error"] == "Unhandled"
    data = record(api, response)
    assert data["status"] == "timed_out"
    assert "Task timed out after 1.00 seconds" in data["logs"]
    assert data["error"]["errorType"] == "Sandbox.Timedout"
    make_function("after-timeout-" + runtime[:4], "echo", runtime=runtime)
    assert invoke(api, "after-timeout-" + runtime[:4], {"fine": True}).json() == {"fine": True}


@pytest.mark.parametrize("runtime", ["python3.11", "ruby3.3", "java17"])
def test_process_exit_is_recorded_and_environment_replaced(api, make_function, runtime):
    make_function("exiter", "exit", runtime=runtime, timeout=10)  # a loaded machine must not turn the exit into a timeout
    response = invoke(api, "exiter")
    data = record(api, response)
    assert data["status"] == "failed"
    assert data["error"]["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in data["error"]["errorMessage"]
    again = record(api, invoke(api, "exiter"))
    assert again["cold_start"] is True  # the dead environment was not reused


@pytest.mark.parametrize("runtime", ["python3.11", "nodejs20.x", "ruby3.3", "java17"])
def test_environment_is_scrubbed(api, make_function, runtime):
    make_function("envdump-" + runtime[:4], "env", runtime=runtime, environment={"MY_VAR": "mine"})
    env = invoke(api, "envdump-" + runtime[:4]).json()
    for secret in ("DATABASE_URL", "SECRET_KEY", "REDIS_URL", "KILN_DATA_DIR", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"):
        assert secret not in env
    assert env["MY_VAR"] == "mine"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "envdump-" + runtime[:4]
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["_HANDLER"] == handlers.code("env", runtime)[1]
    assert env["LAMBDA_TASK_ROOT"]
    assert env["TZ"] == ":UTC"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"


def test_python_can_import_boto3(api, make_function):
    make_function("boto", "boto3")
    response = invoke(api, "boto")
    assert response.status_code == 200 and "X-Kiln-Function-Error" not in response, response.content
    assert response.json().count(".") == 2


def test_layers_on_the_search_path(api, make_function):
    py = api.post("/api/v1/layers/", {"name": "pylib", "zip_base64": _zip({"python/kilnlayer.py": "VALUE = 'from python layer'\n"})}, format="json").json()
    make_function("uses-layer", "layer", layers=[py["arn"]])
    assert invoke(api, "uses-layer").json() == "from python layer"
    node = api.post("/api/v1/layers/", {"name": "nodelib", "zip_base64": _zip({"nodejs/node_modules/kiln-layer/index.js": "module.exports = { value: 'from node layer' };\n"})}, format="json").json()
    body = {"name": "node-layer", "runtime": "nodejs20.x", "handler": "index.handler", "layers": [node["arn"]],
            "code": {"files": {"index.js": "const lib = require('kiln-layer');\nexports.handler = async () => lib.value;\n"}}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    assert invoke(api, "node-layer").json() == "from node layer"


def test_async_invoke_completes_and_is_recorded(api, make_function):
    make_function("async-echo", "echo")
    response = invoke(api, "async-echo", {"later": 1}, invocation_type="Event")
    assert response.status_code == 202
    request_id = response.json()["request_id"]
    assert response["X-Kiln-Request-Id"] == request_id
    data = wait_final(api, request_id)
    assert data["status"] == "succeeded" and data["result"] == {"later": 1} and data["invocation_type"] == "Event"


def test_logs_capture_stdout_and_stderr_in_lambda_format(api, make_function):
    make_function("printer", "print")
    data = record(api, invoke(api, "printer", {"n": 7}))
    logs = data["logs"]
    request_id = data["request_id"]
    start = logs.index(f"START RequestId: {request_id} Version: $LATEST\n")
    assert start < logs.index("to stdout 7\n") < logs.index(f"END RequestId: {request_id}\n")
    assert "to stderr\n" in logs
    report = [line for line in logs.splitlines() if line.startswith("REPORT")][0]
    fields = report.split("\t")
    assert fields[0] == f"REPORT RequestId: {request_id}"
    assert fields[1].startswith("Duration: ") and fields[1].endswith(" ms")
    assert fields[2] == f"Billed Duration: {data['billed_duration_ms']} ms"
    assert fields[3] == "Memory Size: 128 MB"
    assert fields[4] == f"Max Memory Used: {data['max_memory_used_mb']} MB"
    assert data["billed_duration_ms"] >= data["duration_ms"] + (data["init_duration_ms"] or 0)
    assert data["max_memory_used_mb"] > 0


def test_log_cap_marks_the_cut(api, make_function):
    make_function("spammer", "spam")
    data = record(api, invoke(api, "spammer", {"kb": 400}))
    assert data["status"] == "succeeded"
    assert "Log output truncated" in data["logs"]
    assert len(data["logs"].encode()) < LOG_CAP_BYTES + 4096
    assert invoke(api, "spammer", {"kb": 1}).json() == "spammed"


def test_response_over_6mb_is_an_error(api, make_function):
    make_function("bigresult", "big")
    ok = invoke(api, "bigresult", {"size": limits.SYNC_PAYLOAD_MAX_BYTES - 2})  # JSON string adds 2 quotes
    assert "X-Kiln-Function-Error" not in ok and len(ok.content) == limits.SYNC_PAYLOAD_MAX_BYTES
    too_big = invoke(api, "bigresult", {"size": limits.SYNC_PAYLOAD_MAX_BYTES - 1})
    assert too_big["X-Kiln-Function-Error"] == "Unhandled"
    assert too_big.json()["errorType"] == "Function.ResponseSizeTooLarge"


def test_history_list_filters_and_paginates(api, make_function):
    make_function("hist", "echo")
    make_function("other", "raise")
    ids = [invoke(api, "hist", {"i": i})["X-Kiln-Request-Id"] for i in range(3)]
    invoke(api, "other")
    listed = api.get("/api/v1/invocations/?function=hist&limit=2").json()
    assert [r["request_id"] for r in listed["results"]] == ids[::-1][:2]
    rest = api.get(listed["next"]).json()
    assert [r["request_id"] for r in rest["results"]] == ids[:1]
    failed = api.get("/api/v1/invocations/?status=failed").json()["results"]
    assert [r["function"] for r in failed] == ["other"]
    assert api.get("/api/v1/invocations/?status=bogus").status_code == 400
    assert api.get("/api/v1/invocations/not-a-uuid/").status_code == 404


def test_reserved_concurrency_zero_throttles(api, make_function):
    make_function("throttled", "echo")
    Function.objects.filter(name="throttled").update(reserved_concurrency=0)
    response = invoke(api, "throttled", {})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "TooManyRequestsException"
    queued = invoke(api, "throttled", {"a": 1}, invocation_type="Event").json()["request_id"]
    time.sleep(1.5)
    assert api.get(f"/api/v1/invocations/{queued}/").json()["status"] in ("queued", "running")
    Function.objects.filter(name="throttled").update(reserved_concurrency=None)
    data = wait_final(api, queued, seconds=40)
    assert data["status"] == "succeeded" and data["attempt"] >= 2


def test_health(api, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"]["ok"] and checks["broker"]["ok"] and checks["workers"]["count"] >= 1
    assert json.loads(client.get("/api/schema/?format=json").content)["info"]["title"] == "Kiln API"


def test_kiln_failure_after_claim_finishes_the_row(api, make_function):
    from django.core.files.storage import default_storage

    from functions.models import FunctionRevision

    body = {"name": "lost-code", "runtime": "python3.11", "handler": "index.handler",
            "code": {"files": {"index.py": f"# {time.time()}: code no worker has unpacked\ndef handler(e, c):\n    return e\n"}}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    revision = FunctionRevision.objects.get(function__name="lost-code")
    default_storage.delete(revision.code_zip.name)  # the worker has never unpacked it: it cannot start
    started = time.monotonic()
    response = invoke(api, "lost-code", {})
    assert time.monotonic() - started < 5
    assert response["X-Kiln-Function-Error"] == "Unhandled"
    data = record(api, response)
    assert data["status"] == "failed" and data["error"]["errorType"] == "Kiln.InternalError"
    make_function("after-lost", "echo")
    assert invoke(api, "after-lost", {"fine": 1}).json() == {"fine": 1}


def wait_status(api, request_id: str) -> str:
    return api.get(f"/api/v1/invocations/{request_id}/").json()["status"]


def test_worker_recovers_at_once_when_the_database_drops_its_connections(api, make_function):
    """The worker skips a health-check query per invocation; a dropped connection is found by the
    claim, which reconnects: the invocation runs now, not when the reaper re-sends it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    make_function("survivor", "echo")
    for i in range(8):  # every worker thread has a connection
        invoke(api, "survivor", {"warm": i}, invocation_type="Event")
    assert invoke(api, "survivor", {"warm": "sync"}).json() == {"warm": "sync"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        assert cursor.rowcount >= 1  # the worker's connections are gone
    for i in range(6):
        started = time.monotonic()
        response = invoke(api, "survivor", {"after": i})
        assert response.status_code == 200 and response.json() == {"after": i}
        assert time.monotonic() - started < 5
    # The Celery threads (asynchronous invocations) too: each runs now, not when the reaper re-sends it.
    ids = [invoke(api, "survivor", {"event": i}, invocation_type="Event").json()["request_id"] for i in range(8)]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(wait_status(api, request_id) in ("queued", "running") for request_id in ids):
        time.sleep(0.2)
    assert [wait_status(api, request_id) for request_id in ids] == ["succeeded"] * 8
