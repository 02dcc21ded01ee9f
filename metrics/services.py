"""Writes of metrics: each finished run into the per-minute roll-ups, sampled gauges, upkeep.

``metrics_record_run`` is called once per finished run (and per throttle) and never raises: metrics
must not fail an invocation. It adds the run to its minute's row for the function and for the account,
by default gathered in memory and written once a second by ``metrics.buffer`` (``KILN_METRICS_FLUSH_SECONDS``);
with 0, at once, as one two-row ``INSERT ... ON CONFLICT DO UPDATE`` written as SQL built once per
histogram bucket (the ORM would compile it on every call). It also counts the run for Prometheus.
``metrics_set_async`` stores the sampled asynchronous-queue figures; ``metrics_compact_days`` and
``metrics_prune`` keep ``RETENTION_DAYS`` of minutes and daily usage for ever.
"""

from __future__ import annotations

import datetime
import logging
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from metrics import buffer, prom
from metrics.histogram import BUCKET_COLUMNS, bucket_of
from metrics.models import ACCOUNT, RETENTION_DAYS, MetricMinute, UsageDay

log = logging.getLogger(__name__)
ERROR_STATUSES = frozenset({"failed", "timed_out"})
THROTTLED = "throttled"
_SUMS = buffer.SUMS  # the order of the values metrics_record_run computes
_MAXES = buffer.MAXES


@cache
def _upsert_sql(bucket: int | None, own_transaction: bool = False) -> str:
    """The two-row upsert, adding ``d<bucket>`` when the run has a duration; ``own_transaction``: in a
    transaction of its own that does not wait for the WAL flush (PostgreSQL, outside any transaction)."""
    q = connection.ops.quote_name
    table = q(MetricMinute._meta.db_table)
    columns = ["minute", "function_name", *_SUMS, *_MAXES] + ([BUCKET_COLUMNS[bucket]] if bucket is not None else [])
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sets = [f"{q(c)} = {table}.{q(c)} + excluded.{q(c)}" for c in _SUMS]
    sets += [f"{q(c)} = CASE WHEN excluded.{q(c)} > {table}.{q(c)} THEN excluded.{q(c)} ELSE {table}.{q(c)} END" for c in _MAXES]
    if bucket is not None:
        c = q(BUCKET_COLUMNS[bucket])
        sets.append(f"{c} = {table}.{c} + excluded.{c}")
    upsert = (f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) VALUES {row}, {row} "
              f"ON CONFLICT ({q('function_name')}, {q('minute')}) DO UPDATE SET {', '.join(sets)}")
    if own_transaction:
        # One round trip, and no wait for the WAL flush: a roll-up lost in a database crash costs a few
        # counts, while a synchronous commit doubled the finish path's cost (one more fsync per run).
        # Django's psycopg cursors bind client-side, so the statements go in one call.
        return f"BEGIN; SET LOCAL synchronous_commit TO OFF; {upsert}; COMMIT"
    return upsert


def day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def retained_from(now: datetime.datetime) -> datetime.datetime:
    """The start of the oldest day whose minute rows are kept (at least ``RETENTION_DAYS``): whole days
    only, so a day is never compacted from a partly deleted set of minutes."""
    return day_start((now - datetime.timedelta(days=RETENTION_DAYS)).astimezone(datetime.UTC).date())


def minute_of(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC).replace(second=0, microsecond=0)


def metrics_record_run(
    *,
    function_name: str,
    status: str,
    duration_ms: float | None = None,
    billed_duration_ms: int | None = None,
    memory_size: int | None = None,
    init_duration_ms: float | None = None,
    concurrency: int | None = None,
    account_concurrency: int | None = None,
    at: datetime.datetime | None = None,
) -> None:
    """Add one finished run (``status``: succeeded, failed, timed_out or throttled) to its minute, for the
    function and for the account; ``concurrency``/``account_concurrency``: leases held when it started."""
    try:
        throttled = status == THROTTLED
        has_duration = duration_ms is not None and not throttled
        values = [
            0 if throttled else 1,
            1 if status in ERROR_STATUSES else 0,
            1 if throttled else 0,
            1 if has_duration else 0,
            float(duration_ms) if has_duration and duration_ms is not None else 0.0,
            1 if init_duration_ms is not None else 0,
            float(init_duration_ms or 0.0),
            int(billed_duration_ms or 0) * int(memory_size or 0),
            float(duration_ms) if has_duration and duration_ms is not None else 0.0,
            float(init_duration_ms or 0.0),
            int(concurrency or 0),
        ]
        bucket = bucket_of(duration_ms) if has_duration and duration_ms is not None else None
        account_values = [*values[:-1], int(account_concurrency or concurrency or 0)]
        if settings.KILN_METRICS_FLUSH_SECONDS > 0:
            moment = minute_of(at or timezone.now())
            buffer.buffer_add((moment, function_name), values[:8], values[8:], bucket)
            buffer.buffer_add((moment, ACCOUNT), account_values[:8], account_values[8:], bucket)
        else:
            _upsert_now(function_name, at, values, account_values, bucket)
        prom.prom_observe_run(function_name=function_name, status=status, duration_ms=duration_ms if has_duration else None, init_duration_ms=init_duration_ms)
    except Exception as exc:  # noqa: BLE001 - a metric is never worth an invocation
        log.warning("could not record metrics of a run of %s: %s", function_name, exc)


def _upsert_now(function_name: str, at: datetime.datetime | None, values: list[float], account_values: list[float], bucket: int | None) -> None:
    """The run's two rows in one statement, at once (``KILN_METRICS_FLUSH_SECONDS = 0``)."""
    extra = [1] if bucket is not None else []
    minute = connection.ops.adapt_datetimefield_value(minute_of(at or timezone.now()))
    params = [minute, function_name, *values, *extra, minute, ACCOUNT, *account_values, *extra]
    own_transaction = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        try:
            cursor.execute(_upsert_sql(bucket, own_transaction), params)
        except Exception:
            if own_transaction:
                cursor.execute("ROLLBACK")  # leave no aborted transaction on the connection
            raise


def metrics_set_async(*, minute: datetime.datetime, received: dict[str, int], queued: dict[str, int] | None = None) -> None:
    """Store the sampled asynchronous figures of ``minute``: events received (queued in that minute) and
    events waiting (a gauge; the larger sample of the minute is kept), per function; the account row
    gets the totals. Idempotent: the figures are set, not added."""
    minute = minute_of(minute)
    queued = queued or {}
    names = set(received) | set(queued)
    if not names:
        return
    rows = [MetricMinute(minute=minute, function_name=name, async_received=received.get(name, 0), async_queued_max=queued.get(name, 0)) for name in names]
    rows.append(MetricMinute(minute=minute, function_name=ACCOUNT, async_received=sum(received.values()), async_queued_max=sum(queued.values())))
    existing = {m.function_name: m.async_queued_max for m in MetricMinute.objects.filter(minute=minute, function_name__in=[r.function_name for r in rows]).only("function_name", "async_queued_max")}
    for row in rows:
        row.async_queued_max = max(row.async_queued_max, existing.get(row.function_name, 0))
    MetricMinute.objects.bulk_create(rows, update_conflicts=True, unique_fields=["function_name", "minute"], update_fields=["async_received", "async_queued_max"])


def metrics_compact_days(*, now: datetime.datetime | None = None) -> int:
    """Sum each finished day not yet compacted (and the last one again) into ``UsageDay``; the sums are
    set, so rerunning is harmless. Minute rows are deleted by whole days only, so a day is summed whole."""
    now = now or timezone.now()
    start = day_start(now.astimezone(datetime.UTC).date())
    minutes = MetricMinute.objects.filter(minute__lt=start)
    last = UsageDay.objects.aggregate(last=Max("date"))["last"]
    if last is not None:  # days before the last compacted one are final; that one is summed again
        minutes = minutes.filter(minute__gte=day_start(last))
    days = (
        minutes.annotate(day=TruncDate("minute", tzinfo=datetime.UTC))
        .values("day", "function_name").annotate(requests=Sum("invocations"), mb_ms=Sum("billed_mb_ms"))
    )
    rows = [UsageDay(date=d["day"], function_name=d["function_name"], requests=d["requests"] or 0, billed_mb_ms=d["mb_ms"] or 0) for d in days]
    if rows:
        UsageDay.objects.bulk_create(rows, update_conflicts=True, unique_fields=["date", "function_name"], update_fields=["requests", "billed_mb_ms"])
    return len(rows)


def metrics_prune(*, now: datetime.datetime | None = None) -> int:
    """Compact finished days into ``UsageDay``, then delete minute rows of days before the retained ones."""
    now = now or timezone.now()
    with transaction.atomic():
        metrics_compact_days(now=now)
        deleted, _ = MetricMinute.objects.filter(minute__lt=retained_from(now)).delete()
    return deleted
