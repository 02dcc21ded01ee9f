"""Roll-ups as the finish path writes them, the series API over them, its errors, pruning, Prometheus.

The tests' real worker writes roll-ups of earlier tests' runs for the current minute up to a second
after they end, so these tests record at fixed times in the past and read only those.
"""

from __future__ import annotations

import datetime
import random

import pytest
from django.db import transaction

from metrics import histogram
from metrics.models import ACCOUNT, MetricMinute, UsageDay
from metrics.services import metrics_prune, metrics_record_run, metrics_set_async

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)


def at(minutes: float) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


def series(api, metric, **params):
    params = {"metric": metric, "start": "2026-11-30T10:00:00Z", "end": "2026-11-30T10:10:00Z", **params}
    response = api.get("/api/v1/metrics/", params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def functions(make_function):
    make_function("alpha")
    make_function("beta")


def test_runs_add_up_per_function_and_account(api, functions):
    metrics_record_run(function_name="alpha", status="succeeded", duration_ms=10.0, billed_duration_ms=10, memory_size=128, concurrency=1, account_concurrency=3, at=at(0.5))
    metrics_record_run(function_name="alpha", status="failed", duration_ms=30.0, billed_duration_ms=80, memory_size=128, init_duration_ms=50.0, concurrency=2, account_concurrency=2, at=at(0.9))
    metrics_record_run(function_name="alpha", status="throttled", at=at(1.2))
    metrics_record_run(function_name="beta", status="timed_out", duration_ms=1000.0, billed_duration_ms=1000, memory_size=256, at=at(1.5))
    rows = {(m.function_name, m.minute): m for m in MetricMinute.objects.filter(minute__lt=at(10))}
    assert len(rows) == 5  # alpha x2 minutes, beta x1, account x2
    first = rows[("alpha", at(0))]
    assert (first.invocations, first.errors, first.throttles, first.duration_count) == (2, 1, 0, 2)
    assert (first.duration_sum_ms, first.duration_max_ms, first.init_count, first.init_max_ms) == (40.0, 30.0, 1, 50.0)
    assert first.concurrency_max == 2 and rows[(ACCOUNT, at(0))].concurrency_max == 3
    assert first.billed_mb_ms == 90 * 128
    assert sum(first.histogram()) == 2 and first.histogram()[histogram.bucket_of(10.0)] == 1

    assert series(api, "Invocations", function="alpha")["points"][:3] == [{"t": "2026-11-30T10:00:00Z", "value": 2}, {"t": "2026-11-30T10:01:00Z", "value": 0}, {"t": "2026-11-30T10:02:00Z", "value": 0}]
    account = series(api, "Invocations")
    assert account["unit"] == "Count" and account["function"] is None and len(account["points"]) == 10
    assert [p["value"] for p in account["points"][:2]] == [2, 1]
    assert series(api, "Errors", period=600)["points"] == [{"t": "2026-11-30T10:00:00Z", "value": 2}]
    assert series(api, "Throttles", function="alpha", period=600)["points"][0]["value"] == 1
    duration = series(api, "Duration", function="alpha", period=120)
    assert duration["unit"] == "Milliseconds" and duration["stat"] == "Average"
    assert duration["points"][0]["value"] == 20.0 and duration["points"][1]["value"] is None
    assert series(api, "Duration", period=600, stat="Maximum")["points"][0]["value"] == 1000.0
    assert series(api, "Duration", period=600, stat="SampleCount")["points"][0]["value"] == 3
    assert series(api, "InitDuration", function="alpha", period=600)["points"][0]["value"] == 50.0
    assert series(api, "ConcurrentExecutions", period=600)["points"][0]["value"] == 3
    assert series(api, "ConcurrentExecutions", function="beta", period=600)["points"][0]["value"] == 0


def test_percentiles_from_the_histogram_are_within_a_bucket(api, functions):
    rng = random.Random(9)
    durations = [rng.lognormvariate(3.0, 1.0) for _ in range(2000)]
    for i, d in enumerate(durations):
        minute = at(i % 7)
        metrics_record_run(function_name="alpha", status="succeeded", duration_ms=d, billed_duration_ms=int(d) + 1, memory_size=128, at=minute)
    durations.sort()
    for p in (50, 90, 99):
        exact = durations[int(len(durations) * p / 100) - 1]
        got = series(api, "Duration", function="alpha", period=600, stat=f"p{p}")["points"][0]["value"]
        assert abs(got - exact) / exact < 0.2, (p, got, exact)
    assert series(api, "Duration", function="alpha", period=600, stat="p100")["points"][0]["value"] == round(durations[-1], 3)


def test_histogram_buckets():
    assert histogram.bucket_of(0.2) == 0 and histogram.bucket_of(1.0) == 0
    assert histogram.bucket_of(1.01) == 1 and histogram.bucket_of(2.0) == 2
    assert histogram.bucket_of(900_000) < histogram.BUCKETS - 1 and histogram.bucket_of(10**9) == histogram.BUCKETS - 1
    assert histogram.percentile([0] * histogram.BUCKETS, 50) is None


@pytest.mark.parametrize("params,field", [
    ({"metric": "Nope"}, "metric"),
    ({}, "metric"),
    ({"metric": "Invocations", "period": "59"}, "period"),
    ({"metric": "Invocations", "period": "90"}, "period"),
    ({"metric": "Invocations", "period": "abc"}, "period"),
    ({"metric": "Invocations", "start": "2026-11-30T11:00:00Z", "end": "2026-11-30T10:00:00Z"}, "start"),
    ({"metric": "Invocations", "start": "yesterday"}, "start"),
    ({"metric": "Invocations", "start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:01:00Z"}, "period"),  # 1441 points
    ({"metric": "Invocations", "stat": "p99"}, "stat"),
    ({"metric": "Duration", "stat": "p101"}, "stat"),
])
def test_bad_requests_are_400_in_the_envelope(api, params, field):
    response = api.get("/api/v1/metrics/", params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "InvalidParameterValueException" and error["message"] and error["details"]["field"] == field


def test_point_limit_edge(api):
    ok = api.get("/api/v1/metrics/", {"metric": "Invocations", "start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"})
    assert ok.status_code == 200 and len(ok.json()["points"]) == 1440


def test_unknown_function_is_404_and_anonymous_is_refused(api, anon):
    assert api.get("/api/v1/metrics/", {"metric": "Invocations", "function": "ghost"}).status_code == 404
    assert anon.get("/api/v1/metrics/", {"metric": "Invocations"}).status_code in (401, 403)


def test_default_range_is_the_last_hour(api):
    data = api.get("/api/v1/metrics/", {"metric": "Invocations"}).json()
    assert len(data["points"]) == 60 and data["period"] == 60


def test_async_samples_are_set_not_added(api, functions):
    metrics_set_async(minute=at(0), received={"alpha": 3}, queued={"alpha": 5})
    metrics_set_async(minute=at(0), received={"alpha": 4}, queued={"alpha": 2})
    assert series(api, "AsyncEventsReceived", function="alpha")["points"][0]["value"] == 4
    assert series(api, "AsyncEventsQueued")["points"][0]["value"] == 5


def test_prune_keeps_thirty_whole_days_and_compacts_them_first():
    now = datetime.datetime(2031, 12, 31, 12, 0, tzinfo=datetime.UTC)  # years from the tests' worker's writes
    old = datetime.datetime(2031, 11, 30, 23, 0, tzinfo=datetime.UTC)  # 30 days and 13 hours before
    kept = datetime.datetime(2031, 12, 1, 0, 0, tzinfo=datetime.UTC)
    metrics_record_run(function_name="alpha", status="succeeded", duration_ms=5.0, billed_duration_ms=5, memory_size=1024, at=old)
    metrics_record_run(function_name="alpha", status="succeeded", duration_ms=5.0, billed_duration_ms=5, memory_size=1024, at=kept)
    assert metrics_prune(now=now) == 2  # alpha's and the account's rows of Nov 30
    assert set(MetricMinute.objects.filter(minute__gte=datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC)).values_list("minute", flat=True)) == {kept}
    days = {(u.date, u.function_name): (u.requests, u.billed_mb_ms) for u in UsageDay.objects.all()}
    assert days[(datetime.date(2031, 11, 30), "alpha")] == (1, 5120) and days[(datetime.date(2031, 12, 1), ACCOUNT)] == (1, 5120)
    metrics_prune(now=now)  # again: nothing changes
    assert UsageDay.objects.get(date=datetime.date(2031, 11, 30), function_name=ACCOUNT).requests == 1


def test_a_failing_upsert_does_not_raise(monkeypatch):
    monkeypatch.setattr("metrics.services._upsert_sql", lambda bucket, own=False: "SELECT nonsense FROM nowhere")
    metrics_record_run(function_name="alpha", status="succeeded", duration_ms=1.0)  # logged, not raised


def test_prometheus_text_format(client):
    metrics_record_run(function_name="alpha", status="succeeded", duration_ms=12.0, init_duration_ms=40.0)
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'kiln_invocations_total{function="alpha",status="succeeded"}' in text
    assert 'kiln_invocation_duration_seconds_bucket{function="alpha",le="0.025"}' in text
    assert 'kiln_cold_starts_total{function="alpha"}' in text


def test_prometheus_token(client, settings):
    settings.KILN_PROMETHEUS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_failing_upsert_outside_a_transaction_leaves_the_connection_usable(monkeypatch):
    from django.db import connection

    if connection.vendor == "postgresql":
        monkeypatch.setattr("metrics.services._upsert_sql", lambda bucket, own=False: "BEGIN; SELECT nonsense FROM nowhere; COMMIT")
    else:
        monkeypatch.setattr("metrics.services._upsert_sql", lambda bucket, own=False: "SELECT nonsense FROM nowhere")
    metrics_record_run(function_name="alpha", status="succeeded", duration_ms=1.0, at=at(0))
    assert MetricMinute.objects.filter(minute=at(0)).count() == 0  # the connection still answers


@pytest.mark.django_db(transaction=True)
def test_the_upsert_commits_on_its_own_outside_a_transaction():
    metrics_record_run(function_name="alpha", status="succeeded", duration_ms=3.0, billed_duration_ms=3, memory_size=128, at=at(0))
    metrics_record_run(function_name="alpha", status="succeeded", duration_ms=4.0, billed_duration_ms=4, memory_size=128, at=at(0))
    row = MetricMinute.objects.get(function_name="alpha", minute=at(0))
    assert (row.invocations, row.billed_mb_ms) == (2, 7 * 128)


def test_buffered_runs_are_written_together_as_the_same_sums(settings):
    from metrics import buffer

    settings.KILN_METRICS_FLUSH_SECONDS = 3600  # the writer thread will not run during the test
    for d in (5.0, 50.0, 500.0):
        metrics_record_run(function_name="alpha", status="failed", duration_ms=d, billed_duration_ms=int(d), memory_size=256, init_duration_ms=d / 5, concurrency=2, account_concurrency=4, at=at(0))
    metrics_record_run(function_name="beta", status="throttled", at=at(1))
    assert MetricMinute.objects.filter(minute__lt=at(10)).count() == 0
    assert buffer.metrics_flush() == 4  # alpha, the account at 10:00; beta, the account at 10:01
    settings.KILN_METRICS_FLUSH_SECONDS = 0
    metrics_record_run(function_name="alpha", status="succeeded", duration_ms=1000.0, billed_duration_ms=1000, memory_size=256, concurrency=1, at=at(0))
    row = MetricMinute.objects.get(function_name="alpha")
    assert (row.invocations, row.errors, row.duration_count, row.duration_sum_ms, row.duration_max_ms) == (4, 3, 4, 1555.0, 1000.0)
    assert (row.init_count, row.init_max_ms, row.concurrency_max, row.billed_mb_ms) == (3, 100.0, 2, 1555 * 256)
    assert sum(row.histogram()) == 4 and row.histogram()[histogram.bucket_of(50.0)] == 1
    assert MetricMinute.objects.get(function_name=ACCOUNT, minute=at(0)).concurrency_max == 4
    assert MetricMinute.objects.get(function_name=ACCOUNT, minute=at(1)).throttles == 1
    assert buffer.metrics_flush() == 0


def test_a_failed_buffer_write_is_kept_for_the_next(settings, monkeypatch):
    from metrics import buffer

    settings.KILN_METRICS_FLUSH_SECONDS = 3600
    metrics_record_run(function_name="alpha", status="succeeded", duration_ms=2.0, at=at(0))
    real = buffer._sql
    monkeypatch.setattr(buffer, "_sql", lambda rows: "SELECT nonsense FROM nowhere")
    with pytest.raises(Exception):  # noqa: B017
        with transaction.atomic():
            buffer.metrics_flush()
    monkeypatch.setattr(buffer, "_sql", real)
    metrics_record_run(function_name="alpha", status="succeeded", duration_ms=3.0, at=at(0))
    assert buffer.metrics_flush() == 2
    assert MetricMinute.objects.get(function_name="alpha").invocations == 2
