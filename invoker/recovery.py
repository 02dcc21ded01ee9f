"""Noticing that the broker lost its messages, and sending the queued invocations again at once.

A Redis that restarts without persistence (or fails over to a replica that lacks the latest writes) drops
every message it held; the rows stay ``QUEUED`` and, left to the reaper, wait ``REDISPATCH_AFTER_S`` plus
a reaper period (30-45 s). Instead every worker's heartbeat (every few seconds) compares the server's
``run_id`` (new at each start of ``redis-server``) with the one Kiln last saw, stored in Redis itself:
the first worker to see a new server swaps the stored id (one atomic ``SET ... GET``) and enqueues
``invoker.tasks.redispatch_queued``, which re-sends every invocation queued before the new server started
(its ``uptime_in_seconds``): those queued later have their messages. A message that survived (Redis with
AOF) is then sent twice, which costs a claim that finds nothing.

The re-send is owed until it is done: ``kiln:broker:resend`` holds its cut-off and who runs it. A worker
SIGKILLed while it re-sent (``make chaos`` killed one a second after it took the task, and 1,710 rows then
waited for the reaper, which re-sends only once the backlog is gone) leaves the record behind, and the next
heartbeat of any worker sends the task again: when the worker named in it no longer beats, or when no worker
took it within ``RESEND_UNCLAIMED_S``.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from invoker.dispatch import dispatch_invocations_now, dispatch_redispatch_queued
from invoker.models import Invocation, InvocationStatus
from invoker.redis_client import get_redis
from invoker.workers import WORKER_NAME, worker_alive

log = logging.getLogger(__name__)
SERVER_KEY = "kiln:broker:run-id"
FRESH_SERVER_S = 30  # a server up for less than this that lacks Kiln's record restarted without its data
RESEND_KEY = "kiln:broker:resend"  # {"before": iso, "by": worker name or "", "at": epoch of the last send of the task}
RESEND_UNCLAIMED_S = 30  # a re-send task no worker took within this is sent again
RESEND_KEEP_S = 3600


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
    # Redis was away); what came after has one. A second of margin for the clocks of Redis and this host. Kiln's
    # record gone from a server that has run for a while: it lost its data without a restart (a flush, a failover
    # to a replica), so everything queued until now is sent again.
    uptime = int(server.get("uptime_in_seconds", 0))
    now = timezone.now()
    before = now if previous is None and uptime > FRESH_SERVER_S else now - timedelta(seconds=uptime - 1)
    log.warning("the broker is a new server (run_id %s, was %s): re-sending the invocations queued before %s",
                run_id, previous.decode() if previous else "none recorded", before.isoformat())
    _resend_owe(redis, before.isoformat())
    return True


def _resend_owe(redis: Any, before_iso: str) -> None:
    redis.set(RESEND_KEY, json.dumps({"before": before_iso, "by": "", "at": time.time()}), ex=RESEND_KEEP_S)
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
    _resend_owe(redis, owed["before"])
    return True


def invocations_redispatch_queued(*, before: datetime) -> int:
    """Send every invocation still ``QUEUED`` that was queued before ``before`` again, in pipelined batches; how many.
    Marks the owed re-send (``RESEND_KEY``) as this worker's while it runs and clears it when done."""
    redis = get_redis()
    before_iso = before.isoformat()
    raw = redis.get(RESEND_KEY)
    if raw is not None and json.loads(raw)["before"] == before_iso:
        redis.set(RESEND_KEY, json.dumps({"before": before_iso, "by": WORKER_NAME, "at": time.time()}), ex=RESEND_KEEP_S)
    ids = Invocation.objects.filter(status=InvocationStatus.QUEUED, queued_at__lt=before).order_by("queued_at").values_list("id", flat=True)
    count = dispatch_invocations_now(str(invocation_id) for invocation_id in ids.iterator(chunk_size=1000))
    raw = redis.get(RESEND_KEY)
    if raw is not None and json.loads(raw)["before"] == before_iso:
        redis.delete(RESEND_KEY)  # a newer restart's re-send (another cut-off) stays owed
    if count:
        log.warning("re-sent %d queued invocations after a broker restart", count)
    return count
