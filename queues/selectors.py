"""Reading queues and messages: lookups by name and ARN, listings, and the approximate counts.

``queue_get`` (what every SQS data-plane request asks first) keeps queues per process in ``QUEUES``, a
generation cache bumped after any queue row is saved, updated or deleted (``queues.apps`` and
``queues.services``), as ``tables.selectors.TABLES`` does for tables.
"""

from __future__ import annotations

import copy
import datetime

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core.generations import GenerationCache
from queues.errors import no_queue
from queues.models import Message, Queue

QUEUES: GenerationCache[Queue | None] = GenerationCache("queues", ttl_s=30.0)


def queue_get(name: str) -> Queue:
    """The queue called ``name`` (a private copy of the cached row: callers may change it), or ``QueueDoesNotExist``."""
    queue = QUEUES.get(name, lambda: Queue.objects.filter(name=name).first(), cacheable=lambda found: found is not None)
    if queue is None:
        raise no_queue()
    return copy.copy(queue)


def queue_by_arn(arn: str) -> Queue | None:
    prefix = f"arn:aws:sqs:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:"
    if not arn.startswith(prefix):
        return None
    return Queue.objects.filter(name=arn[len(prefix):]).first()


def queue_list(*, prefix: str = "", after: str = "", limit: int = 1000) -> list[Queue]:
    """Queues by name from ``after`` (exclusive), at most ``limit``."""
    queues: QuerySet[Queue] = Queue.objects.order_by("name")
    if prefix:
        queues = queues.filter(name__startswith=prefix)
    if after:
        queues = queues.filter(name__gt=after)
    return list(queues[:limit])


def retention_cutoff(queue: Queue, now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(seconds=queue.message_retention_period)


def queue_counts(queue: Queue) -> dict[str, int]:
    """``visible``, ``not_visible`` (received and in flight) and ``delayed`` (sent with a delay, not yet visible)."""
    now = timezone.now()
    rows = Message.objects.filter(queue=queue, sent_at__gte=retention_cutoff(queue, now)).aggregate(
        visible=Count("id", filter=Q(visible_at__lte=now)),
        not_visible=Count("id", filter=Q(visible_at__gt=now, receive_count__gt=0)),
        delayed=Count("id", filter=Q(visible_at__gt=now, receive_count=0)))
    return {k: int(v or 0) for k, v in rows.items()}


def queue_dead_letter_sources(queue: Queue) -> list[Queue]:
    return [q for q in Queue.objects.exclude(redrive_policy=None).order_by("name") if (q.redrive_policy or {}).get("deadLetterTargetArn") == queue.arn]


def messages_recent(queue: Queue, *, limit: int = 50) -> list[Message]:
    return list(Message.objects.filter(queue=queue).order_by("-id")[:limit])
