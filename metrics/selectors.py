"""Reads of metrics: series for any metric over any range and period, and a month's usage and cost.

Series are summed from the per-minute roll-ups (never from invocation history): counters add up,
maxima take the largest, averages divide sums by counts, percentiles come from the summed duration
histograms (``metrics.histogram``). Usage reads the minute rows for the days they are kept and
``UsageDay`` for older ones; money is ``Decimal`` throughout.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.errors import ValidationFailed
from metrics.histogram import BUCKET_COLUMNS, percentile
from metrics.models import ACCOUNT, MetricMinute, UsageDay
from metrics.services import minute_of, retained_from

PERIOD_MIN_S = 60
MAX_POINTS = 1440  # as CloudWatch's GetMetricStatistics
DEFAULT_RANGE = datetime.timedelta(hours=1)
FREE_TIER_REQUESTS = 1_000_000
FREE_TIER_GB_SECONDS = 400_000
MB_MS_PER_GB_SECOND = 1024 * 1000
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d{1,2})?|100)$")


@dataclass(frozen=True)
class MetricSpec:
    unit: str
    default_stat: str
    stats: tuple[str, ...]
    percentiles: bool = False


METRICS: dict[str, MetricSpec] = {
    "Invocations": MetricSpec("Count", "Sum", ("Sum",)),
    "Errors": MetricSpec("Count", "Sum", ("Sum",)),
    "Throttles": MetricSpec("Count", "Sum", ("Sum",)),
    "Duration": MetricSpec("Milliseconds", "Average", ("Average", "Maximum", "Sum", "SampleCount"), percentiles=True),
    "InitDuration": MetricSpec("Milliseconds", "Average", ("Average", "Maximum", "Sum", "SampleCount")),
    "ConcurrentExecutions": MetricSpec("Count", "Maximum", ("Maximum",)),
    "AsyncEventsReceived": MetricSpec("Count", "Sum", ("Sum",)),
    "AsyncEventsQueued": MetricSpec("Count", "Maximum", ("Maximum",)),
}
_COUNTER_COLUMN = {"Invocations": "invocations", "Errors": "errors", "Throttles": "throttles", "AsyncEventsReceived": "async_received"}
_MAX_COLUMN = {"ConcurrentExecutions": "concurrency_max", "AsyncEventsQueued": "async_queued_max"}
_TIMING = {"Duration": ("duration_count", "duration_sum_ms", "duration_max_ms"), "InitDuration": ("init_count", "init_sum_ms", "init_max_ms")}


def parse_time(value: str | None, field: str) -> datetime.datetime | None:
    """An ISO-8601 time (UTC when it names no zone) or seconds since the epoch."""
    if value is None or value == "":
        return None
    try:
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return datetime.datetime.fromtimestamp(float(value), tz=datetime.UTC)
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise ValidationFailed(f"{field} must be an ISO-8601 time (2026-12-01T10:00:00Z) or seconds since the epoch, not {value!r}.", details={"field": field}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _period(value: str | None) -> int:
    if value is None or value == "":
        return PERIOD_MIN_S
    try:
        period = int(value)
    except ValueError:
        period = -1
    if period < PERIOD_MIN_S or period % PERIOD_MIN_S:
        raise ValidationFailed(f"period must be a whole number of seconds, a multiple of {PERIOD_MIN_S} (60, 300, 3600, ...), not {value!r}.", details={"field": "period"})
    return period


def _stat(metric: str, spec: MetricSpec, stat: str | None) -> str:
    stat = stat or spec.default_stat
    if stat in spec.stats or (spec.percentiles and _PERCENTILE.match(stat) and 0 < float(stat[1:]) <= 100):
        return stat
    allowed = list(spec.stats) + (["p50", "p90", "p99 (any pNN)"] if spec.percentiles else [])
    raise ValidationFailed(f"stat {stat!r} is not available for {metric}; use one of: {', '.join(allowed)}.", details={"field": "stat", "allowed": allowed})


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def metric_series(*, metric: str | None, function_name: str | None, period: str | None = None, start: str | None = None, end: str | None = None,
                  stat: str | None = None, now: datetime.datetime | None = None) -> dict[str, Any]:
    """``{"metric", "unit", "stat", "period", "function", "start", "end", "points": [{"t", "value"}]}``, one point per period."""
    if not metric or metric not in METRICS:
        raise ValidationFailed(f"metric must be one of: {', '.join(METRICS)}; got {metric!r}.", details={"field": "metric", "allowed": list(METRICS)})
    spec = METRICS[metric]
    chosen_stat = _stat(metric, spec, stat)
    seconds = _period(period)
    end_at = parse_time(end, "end") or (minute_of(now or timezone.now()) + datetime.timedelta(minutes=1))
    start_at = parse_time(start, "start") or (end_at - DEFAULT_RANGE)
    start_at, end_at = minute_of(start_at), minute_of(end_at + datetime.timedelta(seconds=59))
    if start_at >= end_at:
        raise ValidationFailed("start must be before end.", details={"field": "start", "start": iso(start_at), "end": iso(end_at)})
    count = -(-int((end_at - start_at).total_seconds()) // seconds)
    if count > MAX_POINTS:
        raise ValidationFailed(f"The range holds {count} periods of {seconds} s; at most {MAX_POINTS} points can be asked for at once: use a longer period or a shorter range.",
                               details={"field": "period", "points": count, "limit": MAX_POINTS})
    columns = _columns(metric, chosen_stat)
    rows = MetricMinute.objects.filter(function_name=function_name or ACCOUNT, minute__gte=start_at, minute__lt=end_at).values_list("minute", *columns)
    groups: list[list[tuple[Any, ...]]] = [[] for _ in range(count)]
    for row in rows:
        groups[int((row[0] - start_at).total_seconds()) // seconds].append(row[1:])
    points = [{"t": iso(start_at + datetime.timedelta(seconds=i * seconds)), "value": _value(metric, chosen_stat, group)} for i, group in enumerate(groups)]
    return {"metric": metric, "unit": spec.unit, "stat": chosen_stat, "period": seconds, "function": function_name or None,
            "start": iso(start_at), "end": iso(end_at), "points": points}


def _columns(metric: str, stat: str) -> tuple[str, ...]:
    if metric in _COUNTER_COLUMN:
        return (_COUNTER_COLUMN[metric],)
    if metric in _MAX_COLUMN:
        return (_MAX_COLUMN[metric],)
    if stat.startswith("p"):
        return ("duration_max_ms", *BUCKET_COLUMNS)
    return _TIMING[metric]


def _value(metric: str, stat: str, group: Iterable[tuple[Any, ...]]) -> int | float | None:
    group = list(group)
    if metric in _COUNTER_COLUMN:
        return sum(r[0] for r in group)
    if metric in _MAX_COLUMN:
        return max((r[0] for r in group), default=None)
    if stat.startswith("p"):
        counts = [sum(r[1 + i] for r in group) for i in range(len(BUCKET_COLUMNS))]
        value = percentile(counts, float(stat[1:]), maximum=max((r[0] for r in group), default=None))
        return None if value is None else round(value, 3)
    samples = sum(r[0] for r in group)
    if stat == "SampleCount":
        return samples
    if samples == 0:
        return None
    if stat == "Sum":
        return round(sum(r[1] for r in group), 3)
    if stat == "Maximum":
        return round(max(r[2] for r in group if r[0]), 3)
    return round(sum(r[1] for r in group) / samples, 3)


# -- usage and cost ------------------------------------------------------------------------------
def prices() -> tuple[Decimal, Decimal]:
    return Decimal(str(settings.KILN_PRICE_PER_MILLION_REQUESTS)), Decimal(str(settings.KILN_PRICE_PER_GB_SECOND))


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain text without exponent or trailing zeros: "0.0000166667", "12", "0"."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _month(value: str | None, now: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    if not value:
        first = now.astimezone(datetime.UTC).date().replace(day=1)
    else:
        match = re.fullmatch(r"(\d{4})-(\d{2})", value)
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
            raise ValidationFailed(f"month must be YYYY-MM (e.g. 2026-12), not {value!r}.", details={"field": "month"})
        first = datetime.date(int(match.group(1)), int(match.group(2)), 1)
    following = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return first, following


def _daily(first: datetime.date, following: datetime.date, now: datetime.datetime) -> dict[tuple[datetime.date, str], tuple[int, int]]:
    """(day, function_name) → (requests, billed MB-ms) for the month: minute rows where kept, else UsageDay."""
    kept_from = retained_from(now).date()
    found: dict[tuple[datetime.date, str], tuple[int, int]] = {}
    if first < kept_from:
        for row in UsageDay.objects.filter(date__gte=first, date__lt=min(following, kept_from)).values_list("date", "function_name", "requests", "billed_mb_ms"):
            found[(row[0], row[1])] = (row[2], row[3])
    if following > kept_from:
        since = datetime.datetime.combine(max(first, kept_from), datetime.time(), tzinfo=datetime.UTC)
        until = datetime.datetime.combine(following, datetime.time(), tzinfo=datetime.UTC)
        minutes = (MetricMinute.objects.filter(minute__gte=since, minute__lt=until).annotate(day=TruncDate("minute", tzinfo=datetime.UTC))
                   .values("day", "function_name").annotate(requests=Sum("invocations"), mb_ms=Sum("billed_mb_ms")).order_by())
        for summed in minutes:
            found[(summed["day"], summed["function_name"])] = (summed["requests"] or 0, summed["mb_ms"] or 0)
    return found


def usage_month(*, month: str | None = None, now: datetime.datetime | None = None) -> dict[str, Any]:
    """A month's requests, GB-seconds and cost under Lambda's pricing (free tier applied to the account)."""
    now = now or timezone.now()
    first, following = _month(month, now)
    per_million, per_gb_s = prices()
    with localcontext() as ctx:
        ctx.prec = 50

        def gb_seconds(mb_ms: int) -> Decimal:
            return Decimal(mb_ms) / MB_MS_PER_GB_SECOND

        def cost(requests: int | Decimal, gb_s: Decimal) -> Decimal:
            return Decimal(requests) * per_million / 1_000_000 + gb_s * per_gb_s

        daily = _daily(first, following, now)
        account = [v for (_, name), v in daily.items() if name == ACCOUNT]
        requests = sum(r for r, _ in account)
        total_gb_s = gb_seconds(sum(m for _, m in account))
        billable_requests = max(0, requests - FREE_TIER_REQUESTS)
        billable_gb_s = max(Decimal(0), total_gb_s - FREE_TIER_GB_SECONDS)
        per_function: dict[str, list[int]] = {}
        for (_, name), (r, m) in daily.items():
            if name != ACCOUNT:
                totals = per_function.setdefault(name, [0, 0])
                totals[0] += r
                totals[1] += m
        functions = [{"name": name, "requests": r, "gb_seconds": decimal_text(gb_seconds(m)), "cost_usd": decimal_text(cost(r, gb_seconds(m)))}
                     for name, (r, m) in sorted(per_function.items(), key=lambda item: (-item[1][1], -item[1][0], item[0]))]
        last = min(following - datetime.timedelta(days=1), max(first, now.astimezone(datetime.UTC).date()))
        days = []
        day = first
        while day <= last:
            r, m = daily.get((day, ACCOUNT), (0, 0))
            days.append({"date": day.isoformat(), "requests": r, "gb_seconds": decimal_text(gb_seconds(m)), "cost_usd": decimal_text(cost(r, gb_seconds(m)))})
            day += datetime.timedelta(days=1)
        return {
            "month": f"{first:%Y-%m}",
            "requests": requests,
            "gb_seconds": decimal_text(total_gb_s),
            "free_tier": {"requests": FREE_TIER_REQUESTS, "gb_seconds": FREE_TIER_GB_SECONDS},
            "billable": {"requests": billable_requests, "gb_seconds": decimal_text(billable_gb_s)},
            "cost_usd": decimal_text(cost(billable_requests, billable_gb_s)),
            "gross_cost_usd": decimal_text(cost(requests, total_gb_s)),
            "prices": {"per_million_requests": decimal_text(per_million), "per_gb_second": decimal_text(per_gb_s)},
            "functions": functions,
            "days": days,
        }
