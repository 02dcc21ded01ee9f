"""Metrics as a real worker writes them: runs, errors, throttles, cold starts, concurrency, async, Prometheus."""

from __future__ import annotations

import re
import time

import pytest

from invoker.metering import async_events_sample
from tests.conftest import invoke, wait_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker")]


def total(api, metric, **params):
    points = api.get("/api/v1/metrics/", {"metric": metric, "period": 600, **params}).json()["points"]
    return points


def until_written(api, metric, expected, seconds=10.0, **params):
    """The worker writes what it gathered once a second: wait for the count to arrive."""
    deadline = time.time() + seconds
    while True:
        got = sum(p["value"] or 0 for p in total(api, metric, **params))
        if got >= expected or time.time() > deadline:
            return got
        time.sleep(0.2)


def test_invocations_reach_the_rollups_and_prometheus(api, make_function, client):
    make_function("m-echo", "echo")
    make_function("m-raise", "raise")
    for i in range(3):
        assert invoke(api, "m-echo", {"i": i}).status_code == 200
    invoke(api, "m-raise", {"why": "metrics"})
    api.put("/api/v1/functions/m-echo/concurrency/", {"reserved": 0}, format="json")
    assert invoke(api, "m-echo", {}).status_code == 429

    def value(metric, **params):
        return sum(p["value"] or 0 for p in total(api, metric, **params)) if metric != "Duration" else [p["value"] for p in total(api, metric, **params) if p["value"] is not None]

    assert until_written(api, "Invocations", 3, function="m-echo") == 3 and until_written(api, "Throttles", 1, function="m-echo") == 1
    assert until_written(api, "Errors", 1, function="m-raise") == 1
    assert value("Invocations", function="m-echo") == 3
    assert value("Throttles", function="m-echo") == 1
    assert value("Errors", function="m-echo") == 0 and value("Errors", function="m-raise") == 1
    assert value("Invocations") >= 4 and value("Errors") >= 1 and value("Throttles") >= 1  # the account (earlier tests' runs may be in it)
    assert value("Duration", function="m-echo", stat="p99")
    assert value("InitDuration", function="m-echo", stat="SampleCount") == 1  # one cold start, then warm
    assert value("ConcurrentExecutions", function="m-echo") >= 1
    usage = api.get("/api/v1/usage/").json()
    by_name = {f["name"]: f["requests"] for f in usage["functions"]}
    assert usage["requests"] >= 4 and by_name["m-echo"] == 3 and by_name["m-raise"] == 1

    text = client.get("/metrics").content.decode()
    assert re.search(r'kiln_invocations_total\{function="m-echo",status="succeeded"\} 3\.0', text), text[:3000]
    assert re.search(r'kiln_invocations_total\{function="m-echo",status="throttled"\} 1\.0', text)
    assert re.search(r'kiln_cold_starts_total\{function="m-echo"\} 1\.0', text)
    assert 'kiln_invocation_duration_seconds_count{function="m-raise"} 1.0' in text


def test_async_events_received_and_billed_retries(api, make_function):
    make_function("m-async", "echo")
    ids = [invoke(api, "m-async", {"n": n}, invocation_type="Event").json()["request_id"] for n in range(2)]
    for request_id in ids:
        assert wait_final(api, request_id)["status"] == "succeeded"
    assert async_events_sample() >= 2
    points = total(api, "AsyncEventsReceived", function="m-async")
    assert sum(p["value"] for p in points) == 2
    assert until_written(api, "Invocations", 2, function="m-async") == 2
