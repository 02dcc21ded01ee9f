"""The reaper (a beat task): re-sends invocations whose message may be lost, and requeues or fails those
whose worker vanished."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from invoker.dispatch import dispatch_invocation, dispatch_invocations_now, invoke_backlog, invoke_unacked, unacked_restore
from invoker.models import Invocation, InvocationStatus, InvocationType
from invoker.run import MAX_ATTEMPTS, REQUEUE, Outcome, invocation_finish
from invoker.workers import worker_alive

log = logging.getLogger(__name__)


REDISPATCH_AFTER_S = 30


REDISPATCH_IN_BACKLOG_AFTER_S = 300


# A message a worker took this long ago, still unacknowledged while its row is QUEUED (a live worker claims what it
# takes within milliseconds), was taken by a worker that died before it claimed it.
STRANDED_AFTER_S = 30


def redispatch_after_s(backlog: int | None) -> int:
    """How old a queued row must be for the reaper to send it again, given the messages waiting in the broker."""
    return REDISPATCH_IN_BACKLOG_AFTER_S if backlog else REDISPATCH_AFTER_S


def invocations_reap() -> dict[str, int]:
    """Re-send invocations whose message may be lost; requeue or fail those whose worker vanished."""
    now = timezone.now()
    counts = {"redispatched": 0, "restored": 0, "requeued": 0, "failed": 0}
    counts["restored"] = invocations_restore_stranded()
    # While messages wait in the broker, a row queued 30 s ago is most likely one of them (a backlog after a
    # worker restart): re-sending it would only add to the queue, so then only rows waiting far longer are re-sent.
    # A broker that lost its messages is noticed by the workers' heartbeats instead (invoker/recovery.py).
    stale_after = redispatch_after_s(invoke_backlog())
    stale_queued = Invocation.objects.filter(status=InvocationStatus.QUEUED, queued_at__lt=now - timedelta(seconds=stale_after)).values_list("id", flat=True)[:1000]
    counts["redispatched"] = dispatch_invocations_now(str(invocation_id) for invocation_id in stale_queued)
    running = Invocation.objects.filter(status=InvocationStatus.RUNNING, started_at__lt=now - timedelta(seconds=15)).values("id", "worker", "attempt", "started_at", "revision__timeout", "invocation_type")[:1000]
    alive_by_worker: dict[str, bool] = {}
    for row in running:
        assert row["started_at"] is not None  # filtered on started_at__lt
        overdue = row["started_at"] < now - timedelta(seconds=(row["revision__timeout"] or 900) + 60)
        if row["worker"] not in alive_by_worker:
            alive_by_worker[row["worker"]] = worker_alive(row["worker"])
        alive = alive_by_worker[row["worker"]]
        if alive and not overdue:
            continue
        # A dead worker's invocation goes back to the queue however long ago it started (the reaper may come late:
        # no worker ran it meanwhile); one a live worker holds past its deadline is stuck there and fails.
        if row["attempt"] < MAX_ATTEMPTS and not alive:
            with transaction.atomic():
                if Invocation.objects.filter(id=row["id"], status=REQUEUE[0], worker=row["worker"]).update(status=REQUEUE[1], attempt=F("attempt") + 1, started_at=None, worker=""):
                    dispatch_invocation(str(row["id"]), sync=row["invocation_type"] == InvocationType.REQUEST_RESPONSE)
                    counts["requeued"] += 1
        else:
            error = {"errorType": "Kiln.WorkerLost", "errorMessage": f"The worker running this invocation ({row['worker']}) stopped answering; gave up after {row['attempt']} attempt(s).", "stackTrace": []}
            if invocation_finish(str(row["id"]), Outcome(InvocationStatus.FAILED, json.dumps(error), error, "")):
                counts["failed"] += 1
    return counts


def invocations_restore_stranded() -> int:
    """Give back the messages of invocations a dead worker took from the broker and never claimed (how many).

    kombu would hand them out again only after the transport's visibility timeout (1 h), and the re-send of stale
    rows above waits for the backlog to go (``make chaos``: one row per run finished last, or not within the
    drain's 2 minutes, because of it). Such a message is still unacknowledged, taken ``STRANDED_AFTER_S`` ago, and
    its row is still ``QUEUED``: it goes back to the head of its queue, as kombu's own restore would put it."""
    try:
        unacked = invoke_unacked(older_than_s=STRANDED_AFTER_S)
    except Exception as exc:  # noqa: BLE001 - the broker away: the next reap looks again
        log.warning("could not read the broker's unacknowledged messages: %s", exc)
        return 0
    if not unacked:
        return 0
    queued = {str(pk) for pk in Invocation.objects.filter(pk__in=[u.invocation_id for u in unacked], status=InvocationStatus.QUEUED).values_list("id", flat=True)}
    stranded = [u.tag for u in unacked if u.invocation_id in queued]
    restored = unacked_restore(stranded) if stranded else 0
    if restored:
        log.warning("gave %d invocations a dead worker had taken from the broker back to the queue", restored)
    return restored
