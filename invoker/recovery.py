"""Noticing that the broker lost its messages, and sending the queued invocations again at once.

A Redis that restarts without persistence (or fails over to a replica that lacks the latest writes) drops
every message it held; the rows stay ``QUEUED`` and, left to the reaper, wait ``REDISPATCH_AFTER_S`` plus
a reaper period (30-45 s). Instead every worker's heartbeat (every few seconds) compares the server's
``run_id`` (new at each start of ``redis-server``) with the one Kiln last saw, stored in Redis itself:
the first worker to see a new server swaps the stored id (one atomic ``SET ... GET``) and enqueues
``invoker.tasks.redispatch_queued``, which re-sends every invocation still queued until that moment. Those
queued in the seconds between the server's start and the notice should have their messages, but make chaos
found 31 rows published 1.2 s after a restart, before any worker had reconnected, that never reached a worker
(they waited for the reaper until the backlog was gone; the cause is not known), so they are sent again too.
A message that survived (Redis with AOF, or one published after the start) is then sent twice, which costs a
claim that finds nothing.

The re-send is owed until it is done: ``kiln:broker:resend`` holds its cut-off and who runs it. A worker
SIGKILLed while it re-sent (``make chaos`` killed one a second after it took the task, and 1,710 rows then
waited for the reaper, which re-sends only once the backlog is gone) leaves the record behind, and the next
heartbeat of any worker sends the task again: when the worker named in it is gone (its heartbeat expired, or a
process on its host sees it has exited: invoker/workers.py), or when no worker took it within
``RESEND_UNCLAIMED_S``. The record keeps a cursor, the last row sent in ``(queued_at, id)`` order, so the next
worker goes on from there instead of sending the first rows again (each such message costs a claim that
finds nothing, on a worker that is catching up).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from invoker.dispatch import dispatch_invocations_now, dispatch_redispatch_queued
from invoker.models import Invocation, InvocationStatus
from invoker.redis_client import get_redis
from invoker.workers import WORKER_NAME, worker_alive

log = logging.getLogger(__name__)
SERVER_KEY = "kiln:broker:run-id"
FRESH_SERVER_S = 30  # a server up for less than this that lacks Kiln's record restarted without its data
# {"before": iso, "by": worker name or "", "at": epoch of the last send of the task or move of the cursor,
#  "from": [queued_at iso, id] of the last row sent, when some were}
RESEND_KEY = "kiln:broker:resend"
RESEND_UNCLAIMED_S = 30  # a re-send task no worker took within this is sent again
RESEND_KEEP_S = 3600
RESEND_PAGE = 1000  # rows sent between two moves of the re-send's cursor


def broker_restart_check() -> bool:
    """Whether the broker is a server Kiln has not seen before (it restarted, or this is its first
    start); if so, and this caller is the first to notice, the re-send of queued invocations is enqueued."""
    redis = get_redis()
    server = redis.info("server")
    run_id = str(server["run_id"])
    previous = redis.set(SERVER_KEY, run_id, get=True)
    if previous is not None and previous.decode() == run_id:
        return False
    # What was queued before this server started lost its message (or never got one: the publish failed while
    # Redis was away); what came in the seconds since is in doubt too (module docstring). Kiln's record gone from a
    # server that has run for a while: it lost its data without a restart (a flush, a failover to a replica). Either
    # way everything queued until now is sent again; only a server that has run for long keeps the older cut-off at
    # its start, so that a worker noticing late does not re-send minutes of messages that are safely there.
    before = resend_cutoff(timezone.now(), uptime_s=int(server.get("uptime_in_seconds", 0)), record_kept=previous is not None)
    log.warning("the broker is a new server (run_id %s, was %s): re-sending the invocations queued before %s",
                run_id, previous.decode() if previous else "none recorded", before.isoformat())
    _resend_owe(redis, before.isoformat())
    return True


def resend_cutoff(now: datetime, *, uptime_s: int, record_kept: bool) -> datetime:
    """Until when queued invocations are sent again, noticed ``now`` on a server up for ``uptime_s`` that kept
    (``record_kept``) or lost Kiln's record of the server before it."""
    if not record_kept or uptime_s <= FRESH_SERVER_S:
        return now
    return now - timedelta(seconds=uptime_s - 1)  # a second of margin for the clocks of Redis and this host


def _resend_owe(redis: Any, before_iso: str, cursor: list[str] | None = None) -> None:
    _owe_record(redis, before_iso, "", cursor)  # ``cursor``: what an earlier holder had already sent
    dispatch_redispatch_queued(before_iso)


def resend_check() -> bool:
    """A heartbeat's look at the owed re-send: sent again when its worker died or no worker took it; whether it was."""
    redis = get_redis()
    raw = redis.get(RESEND_KEY)
    if raw is None:
        return False
    owed = json.loads(raw)
    if owed["by"] and worker_alive(owed["by"]):
        return False
    if not owed["by"] and time.time() - owed["at"] < RESEND_UNCLAIMED_S:
        return False
    log.warning("the re-send of the invocations queued before %s was not finished (%s): sending it again",
                owed["before"], f"worker {owed['by']} is gone" if owed["by"] else "no worker took it")
    _resend_owe(redis, owed["before"], owed.get("from"))
    return True


def invocations_redispatch_queued(*, before: datetime) -> int:
    """Send every invocation still ``QUEUED`` that was queued before ``before`` again, in pipelined batches; how many.
    Marks the owed re-send (``RESEND_KEY``) as this worker's while it runs, moves its cursor past each batch sent (a
    re-send taken over after this worker died goes on from there instead of sending the start again), and clears it
    when done."""
    redis = get_redis()
    before_iso = before.isoformat()
    owed = _owed(redis, before_iso)
    cursor = owed.get("from") if owed else None
    if owed is not None:
        _owe_record(redis, before_iso, WORKER_NAME, cursor)
    queued = Invocation.objects.filter(status=InvocationStatus.QUEUED, queued_at__lt=before)
    count = 0
    while True:
        page = queued
        if cursor is not None:
            at = datetime.fromisoformat(cursor[0])
            page = page.filter(Q(queued_at__gt=at) | Q(queued_at=at, id__gt=cursor[1]))
        rows = list(page.order_by("queued_at", "id").values_list("id", "queued_at")[:RESEND_PAGE])
        if not rows:
            break
        count += dispatch_invocations_now(str(invocation_id) for invocation_id, _ in rows)
        cursor = [rows[-1][1].isoformat(), str(rows[-1][0])]
        if owed is not None:
            _owe_record(redis, before_iso, WORKER_NAME, cursor)
    if _owed(redis, before_iso) is not None:
        redis.delete(RESEND_KEY)  # a newer restart's re-send (another cut-off) stays owed
    if count:
        log.warning("re-sent %d queued invocations after a broker restart", count)
    return count


def _owed(redis: Any, before_iso: str) -> dict[str, Any] | None:
    """The owed re-send with this cut-off, None when it is done or a newer restart's replaced it."""
    raw = redis.get(RESEND_KEY)
    owed: dict[str, Any] | None = json.loads(raw) if raw is not None else None
    return owed if owed is not None and owed["before"] == before_iso else None


def _owe_record(redis: Any, before_iso: str, by: str, cursor: list[str] | None) -> None:
    """The owed re-send: held ``by`` a worker ("": by none yet), every row up to ``cursor`` (queued_at, id) sent."""
    record: dict[str, Any] = {"before": before_iso, "by": by, "at": time.time()}
    if cursor is not None:
        record["from"] = cursor
    redis.set(RESEND_KEY, json.dumps(record), ex=RESEND_KEEP_S)
