"""Enqueueing invoker tasks: always after the transaction that wrote the row commits.

A publish that fails (broker down) is logged and left to the reaper, which re-dispatches invocations
still queued after ``REDISPATCH_AFTER_S``; the row, not the message, is what must not be lost.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

log = logging.getLogger(__name__)


# Tasks are sent by name (routed by CELERY_TASK_ROUTES), so this module imports neither invoker.tasks nor what runs them.
INVOKE_TASK = "invoker.tasks.invoke"
REDISPATCH_TASK = "invoker.tasks.redispatch_queued"


# A synchronous invocation whose caller waits on its row (an event source mapping's poll, a replay) goes to a queue
# of its own, which every worker also consumes (kombu takes from its queues in turn): it never waits behind a
# backlog of asynchronous events in ``invoke`` (the 10,000 of make chaos held an SQS mapping's polls for minutes).
INVOKE_QUEUE = "invoke"
SYNC_QUEUE = "invoke-sync"


def _publish(invocation_id: str, countdown: float | None = None, sync: bool = False) -> None:
    from celery import current_app

    try:
        current_app.send_task(INVOKE_TASK, (invocation_id,), countdown=countdown, queue=SYNC_QUEUE if sync else INVOKE_QUEUE,
                              retry=True, retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2})
    except Exception as exc:  # noqa: BLE001 - the reaper will send it again
        log.warning("could not enqueue invocation %s (%s); the reaper will retry", invocation_id, exc)


def dispatch_invocation(invocation_id: str, *, countdown: float | None = None, sync: bool = False) -> None:
    """Send the invocation to a worker once the row is committed (``sync``: a caller waits on it, ``SYNC_QUEUE``)."""
    transaction.on_commit(lambda: _publish(invocation_id, countdown, sync))


def dispatch_invocations_now(invocation_ids: Iterable[str], *, batch_size: int = 500) -> int:
    """Send committed invocations to the ``invoke`` queue at once (a re-send: the reaper, a broker restart), through
    one producer whose publishes kombu pipelines (``Producer.batch``: one Redis round trip per ``batch_size``
    messages, not one each; ~7 ms per row before). How many were sent; a broker error propagates, and the rows
    stay queued for the next re-send."""
    from celery import current_app

    sent = 0
    with current_app.producer_or_acquire() as producer, producer.batch(max_size=batch_size):
        for invocation_id in invocation_ids:
            current_app.send_task(INVOKE_TASK, (invocation_id,), queue=INVOKE_QUEUE, producer=producer)
            sent += 1
    return sent


def dispatch_redispatch_queued(before_iso: str) -> None:
    """Enqueue the re-send of invocations queued before ``before_iso`` (the broker restarted); at once,
    as it is enqueued from a worker's heartbeat, outside any transaction."""
    from celery import current_app

    current_app.send_task(REDISPATCH_TASK, (before_iso,))


def invoke_backlog(queue: str = "invoke") -> int | None:
    """How many messages wait in the broker's ``invoke`` queue (None when the broker cannot say)."""
    from celery import current_app

    try:
        with current_app.connection_for_read() as conn, conn.channel() as channel:
            return int(channel.queue_declare(queue=queue, passive=True).message_count)
    except Exception as exc:  # noqa: BLE001 - the broker away: the caller decides without it
        if "NOT_FOUND" in str(exc):  # Redis keeps no empty list: an empty queue is one it does not know
            return 0
        log.warning("could not read the invoke queue's length: %s", exc)
        return None


@dataclass(frozen=True)
class Unacked:
    """An ``invoke`` message a worker took from the broker and has not acknowledged (kombu's Redis ``unacked`` set)."""

    tag: str
    invocation_id: str
    received_at: float  # epoch seconds


def invoke_unacked(*, older_than_s: float, limit: int = 1000) -> list[Unacked]:
    """The ``invoke`` messages taken more than ``older_than_s`` ago and not acknowledged, oldest first, leaving out
    those held for a countdown not yet due; [] on a broker other than Redis.

    Tasks are acknowledged late (after the run), so this is every invocation a worker holds: the ones it runs and,
    if it was SIGKILLed, the ones it had taken but not yet claimed, which kombu hands out again only after the
    transport's visibility timeout (1 h). Read through kombu's own channel (its keys, its message decoding)."""
    from celery import current_app

    now = time.time()
    with current_app.connection_for_read() as conn:
        channel = conn.default_channel
        if not hasattr(channel, "unacked_index_key"):
            return []
        with channel.conn_or_acquire() as client:
            tags = client.zrange(channel.unacked_index_key, 0, now - older_than_s, byscore=True, withscores=True, offset=0, num=limit)
            payloads = client.hmget(channel.unacked_key, [tag for tag, _ in tags]) if tags else []
        found = []
        for (tag, score), raw in zip(tags, payloads, strict=True):
            if raw is None:
                continue  # acknowledged meanwhile
            payload = json.loads(raw)[0]
            headers = payload.get("headers") or {}
            if headers.get("task") != INVOKE_TASK or _held_for_countdown(headers.get("eta"), now - older_than_s):
                continue
            try:
                invocation_id = str(uuid.UUID(str(channel.Message(payload, channel=channel).decode()[0][0])))
            except (ValueError, TypeError, IndexError, KeyError):
                continue  # not a message Kiln sent
            found.append(Unacked(tag=tag.decode() if isinstance(tag, bytes) else str(tag), invocation_id=invocation_id, received_at=float(score)))
    return found


def _held_for_countdown(eta: str | None, since: float) -> bool:
    """Whether a message's countdown ended after ``since``: a live worker may be holding it for it (Celery keeps a
    message with an ETA unacknowledged until it is due)."""
    if not eta:
        return False
    try:
        return datetime.fromisoformat(eta).timestamp() > since
    except ValueError:
        return False


def unacked_restore(tags: Iterable[str]) -> int:
    """Put unacknowledged messages back at the head of their queue, as kombu does after its visibility timeout
    (``QoS.restore_by_tag``: one transaction each, the message leaves the unacked set); how many."""
    from celery import current_app

    restored = 0
    with current_app.connection_for_write() as conn:
        qos = conn.default_channel.qos
        for tag in tags:
            qos.restore_by_tag(tag)
            restored += 1
    return restored
