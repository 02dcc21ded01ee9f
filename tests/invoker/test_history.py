"""The history list: filters (function, status, trigger, time range, request id prefix), their errors,
and its speed on a table of 100,000 invocations (query count and time; figures in docs/benchmarks.md)."""

from __future__ import annotations

import datetime
import random
import statistics
import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoker.models import Invocation

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
SEEDED = 100_000
LIST_MS_MAX = 300
STATUSES = ["succeeded"] * 8 + ["failed", "timed_out", "throttled", "queued"]
TRIGGERS = ["api"] * 5 + ["console", "http", "http", "s3", "replay"]


def _seed(count: int, *, functions: int = 50, seed: int = 7) -> list[Invocation]:
    rng = random.Random(seed)
    field = Invocation._meta.get_field("queued_at")
    rows = []
    for i in range(count):
        queued = T0 + datetime.timedelta(seconds=i * 26 + rng.random())  # ~30 days
        rows.append(Invocation(
            id=uuid.UUID(int=rng.getrandbits(128), version=4), function_name=f"fn-{rng.randrange(functions):02d}", status=rng.choice(STATUSES),
            trigger=rng.choice(TRIGGERS), queued_at=queued, started_at=queued, finished_at=queued + datetime.timedelta(milliseconds=20),
            duration_ms=rng.uniform(1, 200), billed_duration_ms=rng.randrange(1, 201), memory_size=128, max_memory_used_mb=7,
            cold_start=rng.random() < 0.05, payload='{"key": "value"}', logs="START RequestId: x\nEND RequestId: x\nREPORT RequestId: x\n",
        ))
    field.auto_now_add = False  # keep the seeded times
    try:
        Invocation.objects.bulk_create(rows, batch_size=5000)
    finally:
        field.auto_now_add = True
    return rows


def _ids(api, **params) -> list[str]:
    response = api.get("/api/v1/invocations/", params)
    assert response.status_code == 200, response.content
    return [r["request_id"] for r in response.json()["results"]]


def test_time_range_and_request_id_filters(api):
    rows = _seed(300)
    since, until = T0 + datetime.timedelta(seconds=26 * 100), T0 + datetime.timedelta(seconds=26 * 110)
    expected = [str(r.id) for r in sorted(rows, key=lambda r: (r.queued_at, r.id), reverse=True) if since <= r.queued_at < until]
    assert _ids(api, since=since.isoformat(), until=until.isoformat().replace("+00:00", "Z")) == expected and len(expected) == 10
    target = rows[42]
    assert _ids(api, request_id=str(target.id)) == [str(target.id)]
    assert _ids(api, request_id=str(target.id)[:13]) == [str(target.id)]  # with its hyphen
    prefix = str(target.id)[:1]
    assert set(_ids(api, request_id=prefix, limit=500)) == {str(r.id) for r in rows if str(r.id).startswith(prefix)}
    assert str(target.id) in _ids(api, request_id=str(target.id)[:8].upper(), function=target.function_name)
    assert all(r["trigger"]["type"] == "http" for r in api.get("/api/v1/invocations/", {"trigger": "http"}).json()["results"])


@pytest.mark.parametrize("params,field", [
    ({"since": "last tuesday"}, "since"),
    ({"until": "2026-13-01"}, "until"),
    ({"request_id": "xyz"}, "request_id"),
    ({"request_id": "0" * 33}, "request_id"),
    ({"status": "sleeping"}, "status"),
])
def test_bad_filters_are_400(api, params, field):
    response = api.get("/api/v1/invocations/", params)
    assert response.status_code == 400 and response.json()["error"]["details"]["field"] == field


def test_list_on_100000_invocations(api, record_property):
    rows = _seed(SEEDED)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Invocation._meta.db_table}")
    sample = rows[SEEDED // 2]
    cases = {
        "newest": {},
        "function": {"function": "fn-07"},
        "status": {"status": "timed_out"},
        "function+status": {"function": "fn-07", "status": "failed"},
        "trigger": {"trigger": "s3"},
        "time range": {"since": "2026-11-15T00:00:00Z", "until": "2026-11-15T06:00:00Z"},
        "request_id prefix": {"request_id": str(sample.id)[:6]},
        "all filters": {"function": sample.function_name, "status": sample.status, "trigger": sample.trigger, "since": "2026-11-02T00:00:00Z", "until": "2026-11-30T00:00:00Z"},
        "page 2": None,
    }
    figures = {}
    for name, params in cases.items():
        if params is None:
            params = {"cursor": api.get("/api/v1/invocations/", {"limit": 50}).json()["next"].split("cursor=")[1].split("&")[0], "limit": 50}
        api.get("/api/v1/invocations/", params)  # warm: the token's row, the plan
        timings = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = api.get("/api/v1/invocations/", params)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            assert len(queries) <= 2, (name, [q["sql"] for q in queries])  # the token, the page
        figures[name] = statistics.median(timings)
        assert figures[name] < LIST_MS_MAX, (name, figures[name])
    assert len(api.get("/api/v1/invocations/", cases["function"]).json()["results"]) == 50
    record_property("list_ms", figures)
    print("\nhistory list on", SEEDED, "invocations (median of 5, ms):", {k: round(v, 1) for k, v in figures.items()})
