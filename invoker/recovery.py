"""Noticing that the broker lost its messages, and sending the queued invocations again at once.

A Redis that restarts without persistence (or fails over to a replica that lacks the latest writes) drops
every message it held; the rows stay ``QUEUED`` and, left to the reaper, wait ``REDISPATCH_AFTER_S`` plus
a reaper period (30-45 s). Instead every worker's heartbeat (every few seconds) compares the server's
``run_id`` (new at each start of ``redis-server``) with the one Kiln last saw, stored in Redis itself:
the first worker to see a new server swaps the stored id (one atomic ``SET ... GET``) and enqueues
``invoker.tasks.redispatch_queued``, which re-sends every invocation queued before the new server started
(its ``uptime_in_seconds``): those queued later have their messages. A message that survived (Redis with
AOF) is then sent twice, which costs a claim that finds nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from invoker.dispatch import dispatch_invocation, dispatch_redispatch_queued
from invoker.models import Invocation, InvocationStatus
from invoker.redis_client import get_redis

log = logging.getLogger(__name__)
SERVER_KEY = "kiln:broker:run-id"
FRESH_SERVER_S = 30  # a server up for less than this that lacks Kiln's record restarted without its data


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
    dispatch_redispatch_queued(before.isoformat())
    return True


def invocations_redispatch_queued(*, before: datetime) -> int:
    """Send every invocation still ``QUEUED`` that was queued before ``before`` again; how many."""
    count = 0
    ids = Invocation.objects.filter(status=InvocationStatus.QUEUED, queued_at__lt=before).order_by("queued_at").values_list("id", flat=True)
    for invocation_id in ids.iterator(chunk_size=1000):
        dispatch_invocation(str(invocation_id))
        count += 1
    if count:
        log.warning("re-sent %d queued invocations after a broker restart", count)
    return count
