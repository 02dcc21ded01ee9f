"""What the invoker tells the metrics app: each finished run (from the finish path), and a sample of
asynchronous events (a beat task), so ``metrics`` never reads invocation history itself.

The invoker calls the metrics service directly rather than announcing finishes on the core event bus:
there is exactly one consumer, the call is on the hot path, and a direct call keeps its cost and its
place (after the wake-up of a waiting caller) explicit. ``metrics`` sits below ``invoker`` in the layers.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import Count
from django.db.models.functions import TruncMinute
from django.utils import timezone

from invoker.models import Invocation, InvocationStatus, InvocationType
from metrics.services import metrics_record_run, metrics_set_async, minute_of

if TYPE_CHECKING:
    from invoker.run import Outcome

SAMPLE_MINUTES = 3  # minutes of history re-counted by each sample (late commits land in a later run)


def run_record(*, function_name: str, memory_size: int, outcome: Outcome) -> None:
    """Add a finished run (or a throttle) to the metrics; never raises."""
    function_leases, account_leases = outcome.concurrency or (None, None)
    metrics_record_run(
        function_name=function_name, status=str(outcome.status), duration_ms=outcome.duration_ms, billed_duration_ms=outcome.billed_duration_ms,
        memory_size=memory_size, init_duration_ms=outcome.init_duration_ms, concurrency=function_leases, account_concurrency=account_leases,
    )


def async_events_sample(*, now: datetime.datetime | None = None) -> int:
    """Count asynchronous events received in each of the last ``SAMPLE_MINUTES`` minutes (by when they
    were queued) and those waiting now, per function, into the roll-ups (AsyncEventsReceived,
    AsyncEventsQueued). Both reads go through the ``queued_at`` indexes; figures are set, so
    re-counting a minute is harmless."""
    now = now or timezone.now()
    current = minute_of(now)
    since = current - datetime.timedelta(minutes=SAMPLE_MINUTES - 1)
    received: dict[datetime.datetime, dict[str, int]] = {since + datetime.timedelta(minutes=i): {} for i in range(SAMPLE_MINUTES)}
    rows = (Invocation.objects.filter(queued_at__gte=since, invocation_type=InvocationType.EVENT).annotate(minute=TruncMinute("queued_at", tzinfo=datetime.UTC))
            .values("minute", "function_name").annotate(n=Count("id")).order_by())
    for row in rows:
        received.setdefault(minute_of(row["minute"]), {})[row["function_name"]] = row["n"]
    queued = dict(Invocation.objects.filter(status=InvocationStatus.QUEUED, invocation_type=InvocationType.EVENT).values_list("function_name").annotate(n=Count("id")).order_by())
    for minute, counts in received.items():
        metrics_set_async(minute=minute, received=counts, queued=queued if minute == current else None)
    return sum(sum(c.values()) for c in received.values())
