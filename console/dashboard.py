"""Selectors for the console's home page: account-wide activity, recent failures, busiest functions.

Counts and the busiest functions come from the per-minute roll-ups the workers write (at most 1,440
account rows a day, whatever the traffic), not from scanning history; recent failures are one indexed
query (``status, -queued_at``) with a limit. The charts read the same roll-ups through the metrics API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from functions.models import Function
from invoker.models import Invocation, InvocationStatus
from metrics.models import MetricMinute

WINDOW = timedelta(hours=24)
RECENT_FAILURES = 10
BUSIEST = 8
ERROR_STATUSES = (InvocationStatus.FAILED, InvocationStatus.TIMED_OUT)


@dataclass(frozen=True)
class Activity:
    invocations: int
    errors: int
    throttles: int
    cold_starts: int

    @property
    def error_rate(self) -> float:
        return 100.0 * self.errors / self.invocations if self.invocations else 0.0


def activity_last_day() -> Activity:
    since = timezone.now() - WINDOW
    totals = MetricMinute.objects.filter(function_name="", minute__gte=since).aggregate(
        invocations=Sum("invocations"), errors=Sum("errors"), throttles=Sum("throttles"), cold_starts=Sum("init_count"))
    return Activity(**{key: value or 0 for key, value in totals.items()})


def recent_failures() -> list[Invocation]:
    return list(
        Invocation.objects.filter(status__in=ERROR_STATUSES)
        .only("id", "function_name", "status", "error", "queued_at", "trigger")
        .order_by("-queued_at")[:RECENT_FAILURES]
    )


def busiest_functions() -> list[dict[str, Any]]:
    since = timezone.now() - WINDOW
    rows = list(
        MetricMinute.objects.filter(minute__gte=since).exclude(function_name="")
        .values("function_name").annotate(invocations=Sum("invocations"), errors=Sum("errors"))
        .order_by("-invocations")[:BUSIEST]
    )
    ids = dict(Function.objects.filter(name__in=[r["function_name"] for r in rows]).values_list("name", "id"))
    return [{**row, "function_id": ids.get(row["function_name"])} for row in rows]
