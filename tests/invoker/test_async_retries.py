"""Asynchronous invocations are retried after a function error, as Lambda does (delays shortened in tests)."""

from __future__ import annotations

import pytest

from tests.conftest import invoke, wait_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker")]


def test_event_invoke_config_limits(api, make_function):
    make_function("cfg", "echo")
    url = "/api/v1/functions/cfg/event-invoke-config/"
    assert api.get(url).json() == {"function": "cfg", "maximum_retry_attempts": 2, "maximum_event_age_seconds": 21600, "on_success": None, "on_failure": None}
    for body, status in [({"maximum_retry_attempts": 0}, 200), ({"maximum_retry_attempts": 2}, 200), ({"maximum_retry_attempts": 3}, 400),
                         ({"maximum_retry_attempts": -1}, 400), ({"maximum_event_age_seconds": 60}, 200), ({"maximum_event_age_seconds": 59}, 400),
                         ({"maximum_event_age_seconds": 21600}, 200), ({"maximum_event_age_seconds": 21601}, 400), ({"bogus": 1}, 400)]:
        assert api.put(url, body, format="json").status_code == status, body


def test_failed_async_invocation_is_retried_twice(api, make_function):
    make_function("flaky", "raise")
    request_id = invoke(api, "flaky", {"why": "always"}, invocation_type="Event").json()["request_id"]
    data = wait_final(api, request_id, seconds=30)
    assert data["status"] == "failed" and data["attempt"] == 3 and data["retries"] == 2
    assert data["logs"].count(f"START RequestId: {request_id}") == 3  # every attempt's log is kept
    assert data["error"]["errorMessage"] == "boom: always"


def test_retries_can_be_turned_off_and_sync_is_never_retried(api, make_function):
    make_function("once", "raise")
    api.put("/api/v1/functions/once/event-invoke-config/", {"maximum_retry_attempts": 0}, format="json")
    request_id = invoke(api, "once", {}, invocation_type="Event").json()["request_id"]
    assert wait_final(api, request_id)["attempt"] == 1
    make_function("sync-once", "raise")
    response = invoke(api, "sync-once", {})
    assert api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()["attempt"] == 1


def test_a_successful_retry_ends_succeeded(api):
    # Fails on its first run in an environment, succeeds once /tmp remembers it failed.
    code = "import os\n\ndef handler(event, context):\n    if not os.path.exists('/tmp/failed-once'):\n        open('/tmp/failed-once', 'w').close()\n        raise RuntimeError('first try')\n    return 'second try'\n"
    body = {"name": "second-time", "runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": code}}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    request_id = invoke(api, "second-time", {}, invocation_type="Event").json()["request_id"]
    data = wait_final(api, request_id)
    assert data["status"] == "succeeded" and data["result"] == "second try" and data["retries"] == 1
    assert data["logs"].count("START RequestId") == 2 and "RuntimeError: first try" in data["logs"]
