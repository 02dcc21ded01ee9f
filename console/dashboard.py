"""Selectors for the console's home page: account-wide activity, recent failures, busiest functions.

Counts come from invocation history within a bounded window, over indexed columns (``-queued_at``,
``status, -queued_at``); the charts read per-minute roll-ups through the metrics API instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from invoker.models import Invocation, InvocationStatus

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
    totals = Invocation.objects.filter(queued_at__gte=since).aggregate(
        invocations=Count("id"),
        errors=Count("id", filter=Q(status__in=ERROR_STATUSES)),
        throttles=Count("id", filter=Q(status=InvocationStatus.THROTTLED)),
        cold_starts=Count("id", filter=Q(cold_start=True)),
    )
    return Activity(**totals)


def recent_failures() -> list[Invocation]:
    return list(
        Invocation.objects.filter(status__in=ERROR_STATUSES)
        .only("id", "function_name", "status", "error", "queued_at", "trigger")
        .order_by("-queued_at")[:RECENT_FAILURES]
    )


def busiest_functions() -> list[dict[str, Any]]:
    since = timezone.now() - WINDOW
    return list(
        Invocation.objects.filter(queued_at__gte=since)
        .values("function_id", "function_name")
        .annotate(invocations=Count("id"), errors=Count("id", filter=Q(status__in=ERROR_STATUSES)))
        .order_by("-invocations")[:BUSIEST]
    )
