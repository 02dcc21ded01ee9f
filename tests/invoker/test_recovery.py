"""A broker that lost its messages is noticed within a heartbeat and the queued invocations are sent again at once
(issue 15: after a Redis restart without persistence, 219 invocations waited 30-45 s for the reaper).

The loss is real where it matters: the rows are ``QUEUED`` with no message anywhere (as after the restart), and Kiln's
record of the server (``kiln:broker:run-id``) is gone, as everything is from a Redis restarted without persistence.
No beat runs in the tests, so the reaper cannot be what runs them.
"""

from __future__ import annotations

import time
import uuid

import pytest

from functions.models import Function
from invoker import recovery
from invoker.models import Invocation, InvocationStatus
from invoker.redis_client import get_redis


def _queued_without_messages(name: str, count: int) -> list[Invocation]:
    fn = Function.objects.select_related("latest").get(name=name)
    return [Invocation.objects.create(id=uuid.uuid4(), function=fn, function_name=fn.name, revision=fn.latest, payload=f'{{"n": {i}}}')
            for i in range(count)]


def _wait_succeeded(rows: list[Invocation], seconds: float) -> float:
    started = time.monotonic()
    ids = [row.pk for row in rows]
    while Invocation.objects.filter(pk__in=ids, status=InvocationStatus.SUCCEEDED).count() < len(ids):
        assert time.monotonic() - started < seconds, list(Invocation.objects.filter(pk__in=ids).values_list("status", "attempt"))
        time.sleep(0.2)
    return time.monotonic() - started


def test_a_new_broker_server_is_noticed_once_and_the_queued_invocations_run(make_function, worker, transactional_db) -> None:
    function = make_function("recover-fn")
    from datetime import timedelta

    from django.utils import timezone

    rows = _queued_without_messages(function["name"], 3)
    redis = get_redis()
    started = timezone.now() - timedelta(seconds=int(redis.info("server")["uptime_in_seconds"]))
    # Queued before this server started (as if it had restarted with its append-only file since): their messages are in doubt.
    Invocation.objects.filter(pk__in=[r.pk for r in rows]).update(queued_at=started - timedelta(seconds=10))
    redis.set(recovery.SERVER_KEY, "an-earlier-server")  # the run_id Kiln saw before the restart
    assert recovery.broker_restart_check() is True
    assert redis.get(recovery.SERVER_KEY).decode() == redis.info("server")["run_id"]
    assert recovery.broker_restart_check() is False  # the same server: nothing to do, and only one caller acts on a change
    _wait_succeeded(rows, 30)
    assert {row.attempt for row in Invocation.objects.filter(pk__in=[r.pk for r in rows])} == {1}


def test_a_worker_notices_a_broker_that_lost_its_data_within_a_heartbeat(make_function, worker, transactional_db) -> None:
    function = make_function("recover-fn2")
    rows = _queued_without_messages(function["name"], 2)
    get_redis().delete(recovery.SERVER_KEY)  # everything Kiln wrote in Redis is gone
    took = _wait_succeeded(rows, 20)  # a heartbeat is 5 s; the reaper would wait 30 s for these rows
    assert took < 20
    assert get_redis().get(recovery.SERVER_KEY) is not None


def test_only_invocations_queued_before_the_restart_are_sent_again(make_function, worker, transactional_db) -> None:
    from datetime import timedelta

    from django.utils import timezone

    function = make_function("recover-fn3")
    old, new = _queued_without_messages(function["name"], 2)
    Invocation.objects.filter(pk=old.pk).update(queued_at=timezone.now() - timedelta(seconds=10))
    assert recovery.invocations_redispatch_queued(before=timezone.now() - timedelta(seconds=5)) == 1
    _wait_succeeded([old], 20)
    time.sleep(1)
    assert Invocation.objects.get(pk=new.pk).status == InvocationStatus.QUEUED  # its message (sent at submit) is not Kiln's to repeat
    Invocation.objects.filter(pk=new.pk).update(status=InvocationStatus.FAILED)  # not left for a later test's recovery


def test_the_reaper_waits_longer_while_messages_wait_in_the_broker(transactional_db) -> None:
    """Found by make chaos: after a worker restart with 2,000 rows waiting, every reap re-sent 1,000 rows that still had
    their messages (10,000 duplicates). A backlog in the broker now makes the reaper wait 300 s instead of 30 s."""
    import secrets

    from celery import current_app

    from invoker.dispatch import invoke_backlog
    from invoker.reaper import REDISPATCH_AFTER_S, REDISPATCH_IN_BACKLOG_AFTER_S, redispatch_after_s

    name = f"test-backlog-{secrets.token_hex(4)}"  # a queue of its own: no worker consumes it
    with current_app.connection_for_write() as conn:
        queue = conn.SimpleQueue(name)
        try:
            queue.queue(conn.default_channel).declare()  # bound as a worker binds the invoke queue
            queue.put({"n": 1})
            queue.put({"n": 2})
            assert invoke_backlog(name) == 2
            queue.clear()
            assert invoke_backlog(name) == 0
        finally:
            queue.clear()
            queue.close()
    assert redispatch_after_s(0) == REDISPATCH_AFTER_S == 30
    assert redispatch_after_s(None) == REDISPATCH_AFTER_S  # the broker cannot say: as before
    assert redispatch_after_s(2) == REDISPATCH_IN_BACKLOG_AFTER_S == 300


def test_a_dead_workers_invocation_is_requeued_however_late_the_reaper_comes(make_function, transactional_db) -> None:
    """Found by make chaos: with the worker restarting for minutes, the reaper came after the function's timeout + 60 s
    and failed the killed worker's invocations as ``Kiln.WorkerLost`` after 1 attempt. A dead worker's invocation is
    requeued; only one a live worker holds past its deadline fails."""
    from datetime import timedelta

    from django.utils import timezone

    from invoker.reaper import invocations_reap

    function = make_function("reap-late")
    dead, stuck = _queued_without_messages(function["name"], 2)
    long_ago = timezone.now() - timedelta(seconds=3 + 60 + 120)  # past the function's timeout (3 s) + 60 s
    Invocation.objects.filter(pk=dead.pk).update(status=InvocationStatus.RUNNING, worker="gone-host:1", started_at=long_ago)
    Invocation.objects.filter(pk=stuck.pk).update(status=InvocationStatus.RUNNING, worker="live-host:1", started_at=long_ago)
    redis = get_redis()
    redis.set("kiln:worker:live-host:1", "{}", ex=30)
    try:
        counts = invocations_reap()
    finally:
        redis.delete("kiln:worker:live-host:1")
    assert counts["requeued"] >= 1 and counts["failed"] >= 1
    dead_row, stuck_row = Invocation.objects.get(pk=dead.pk), Invocation.objects.get(pk=stuck.pk)
    assert dead_row.status in (InvocationStatus.QUEUED, InvocationStatus.RUNNING, InvocationStatus.SUCCEEDED) and dead_row.attempt == 2
    assert stuck_row.status == InvocationStatus.FAILED and stuck_row.error["errorType"] == "Kiln.WorkerLost"
    # The requeued one runs; waited for here, so the worker is not still writing it when this test's tables are emptied.
    _wait_succeeded([dead], 30)


def test_a_resend_whose_worker_died_is_sent_again_by_a_heartbeat(make_function, worker, transactional_db) -> None:
    """Found by make chaos: the worker that took the re-send task was SIGKILLed a second later, and 1,710 rows without
    messages waited for the reaper (which re-sends only once the backlog is gone). The re-send is owed in Redis until
    it is done: a heartbeat sends it again when the worker named in it no longer beats."""
    import json
    from datetime import timedelta

    from django.utils import timezone

    function = make_function("resend-owed")
    rows = _queued_without_messages(function["name"], 3)
    before = timezone.now() + timedelta(seconds=1)
    redis = get_redis()
    redis.set("kiln:worker:resending-host:1", "{}", ex=30)
    try:
        # The dead worker's re-send: owed, taken by a worker that still beats, so nobody else acts.
        redis.set(recovery.RESEND_KEY, json.dumps({"before": before.isoformat(), "by": "resending-host:1", "at": time.time()}))
        assert recovery.resend_check() is False
        # Not taken by anyone yet, but only just sent: it may wait in the control queue.
        redis.set(recovery.RESEND_KEY, json.dumps({"before": before.isoformat(), "by": "", "at": time.time()}))
        assert recovery.resend_check() is False
        redis.set(recovery.RESEND_KEY, json.dumps({"before": before.isoformat(), "by": "resending-host:1", "at": time.time()}))
    finally:
        redis.delete("kiln:worker:resending-host:1")  # ... SIGKILLed mid-way
    took = _wait_succeeded(rows, 20)  # the test worker's heartbeat (5 s) sends it again; it runs, and clears the debt
    assert took < 20
    deadline = time.monotonic() + 10
    while redis.exists(recovery.RESEND_KEY) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not redis.exists(recovery.RESEND_KEY)


def test_a_resend_no_worker_took_is_sent_again_after_a_while(transactional_db) -> None:
    import json

    redis = get_redis()
    long_ago = "2026-01-01T00:00:00+00:00"  # nothing was queued before it: the task, when a worker runs it, sends nothing
    try:
        redis.set(recovery.RESEND_KEY, json.dumps({"before": long_ago, "by": "", "at": time.time() - recovery.RESEND_UNCLAIMED_S - 1}))
        assert recovery.resend_check() is True  # the task sent again, really (a worker of another test may run it)
        raw = redis.get(recovery.RESEND_KEY)
        if raw is not None:  # not yet run: owed, with the time of this send, so the next look waits another while
            owed = json.loads(raw)
            assert owed["before"] == long_ago and time.time() - owed["at"] < 5
            assert recovery.resend_check() is False
    finally:
        redis.delete(recovery.RESEND_KEY)


def test_a_resend_publishes_its_messages_in_pipelined_batches(make_function, worker, transactional_db) -> None:
    from datetime import timedelta

    from django.utils import timezone

    function = make_function("resend-batch")
    rows = _queued_without_messages(function["name"], 12)
    assert recovery.invocations_redispatch_queued(before=timezone.now() + timedelta(seconds=1)) >= 12
    _wait_succeeded(rows, 60)  # 30 s was once too short in CI, the other process's tests loading the same 2 cores


def test_a_resend_taken_over_goes_on_from_its_cursor(make_function, monkeypatch, transactional_db) -> None:
    """A worker SIGKILLed in the middle of a re-send leaves the last row it sent in the owed record; the next holder
    sends only the rows after it, in (queued_at, id) order, rows queued in the same microsecond included."""
    import json
    from datetime import timedelta

    from django.utils import timezone

    function = make_function("resend-cursor")
    rows = _queued_without_messages(function["name"], 5)
    base = timezone.now() - timedelta(seconds=60)
    for i, row in enumerate(rows):  # rows 1 and 2 share a queued_at: the id breaks the tie
        Invocation.objects.filter(pk=row.pk).update(queued_at=base + timedelta(seconds=min(i, 4 - (i == 2))))
    order = list(Invocation.objects.filter(pk__in=[r.pk for r in rows]).order_by("queued_at", "id").values_list("id", "queued_at"))
    before = timezone.now()
    late = _queued_without_messages(function["name"], 1)[0]
    Invocation.objects.filter(pk=late.pk).update(queued_at=before)
    redis = get_redis()
    monkeypatch.setattr(recovery, "RESEND_PAGE", 2)
    sent_pages: list[list[str]] = []
    real_dispatch = recovery.dispatch_invocations_now

    def dispatch_then_die(ids) -> int:  # the real publish; the worker is SIGKILLed as it starts its second page
        ids = list(ids)
        if sent_pages:
            raise SystemExit("SIGKILL")
        sent_pages.append(ids)
        return real_dispatch(ids)

    redis.set(recovery.RESEND_KEY, json.dumps({"before": before.isoformat(), "by": "", "at": time.time()}))
    monkeypatch.setattr(recovery, "dispatch_invocations_now", dispatch_then_die)
    with pytest.raises(SystemExit):
        recovery.invocations_redispatch_queued(before=before)
    assert sent_pages == [[str(i) for i, _ in order[:2]]]
    owed = json.loads(redis.get(recovery.RESEND_KEY))
    assert owed["by"] == recovery.WORKER_NAME and owed["from"] == [order[1][1].isoformat(), str(order[1][0])]
    # The next holder (resend_check found this worker gone) sends the three rows after the cursor, and clears the debt.
    monkeypatch.setattr(recovery, "dispatch_invocations_now", real_dispatch)
    redis.set(recovery.RESEND_KEY, json.dumps({**owed, "by": ""}))
    assert recovery.invocations_redispatch_queued(before=before) == 3
    assert not redis.exists(recovery.RESEND_KEY)
    assert Invocation.objects.get(pk=late.pk).status == InvocationStatus.QUEUED  # queued at the cut-off: never sent


def test_invocations_a_killed_worker_had_taken_but_not_claimed_go_back_to_the_queue(make_function, worker, monkeypatch, transactional_db) -> None:
    """Found by make chaos: a worker SIGKILLed with messages it had taken from the broker but not yet claimed left
    their rows QUEUED and the messages in kombu's unacknowledged set, handed out again only after the visibility
    timeout (1 h); the reaper re-sends stale rows only once the backlog is gone, so they ran last, or after the
    drain's deadline. The reaper gives such messages back to the queue.

    Here the worker has one thread and takes four messages at a time (``--prefetch-multiplier 4``): the first runs
    a 30 s sleep, the other three wait in the worker, taken and unclaimed, when it is killed."""
    import os
    import signal
    from pathlib import Path

    from celery import current_app
    from django.conf import settings

    from invoker import reaper
    from invoker.dispatch import INVOKE_TASK, invoke_unacked
    from tests.conftest import Worker

    function = make_function("stranded", handler="sleep")
    busy, *waiting = _queued_without_messages(function["name"], 4)
    Invocation.objects.filter(pk=busy.pk).update(payload='{"seconds": 30}')
    Invocation.objects.filter(pk__in=[r.pk for r in waiting]).update(payload='{"seconds": 0}')
    work = Path(settings.DATA_DIR) / "doomed-work"
    work.mkdir(exist_ok=True)
    work.chmod(0o711)
    queue = f"invoke-doomed-{os.getpid()}"  # only these workers take from it
    doomed = Worker(node="doomed", env={"KILN_WORKER_HOST": "doomed-host", "KILN_WORK_DIR": str(work)}, queues=queue,
                    args=("--prefetch-multiplier", "4", "-c", "1"))
    doomed.start()
    try:
        for row in [busy, *waiting]:
            current_app.send_task(INVOKE_TASK, (str(row.pk),), queue=queue)
        deadline = time.monotonic() + 30
        while Invocation.objects.get(pk=busy.pk).status != InvocationStatus.RUNNING or \
                {str(r.pk) for r in waiting} - {u.invocation_id for u in invoke_unacked(older_than_s=0)}:
            assert time.monotonic() < deadline, "the worker did not take all four"
            time.sleep(0.2)
        assert Invocation.objects.filter(pk__in=[r.pk for r in waiting], status=InvocationStatus.QUEUED).count() == 3
        os.kill(doomed.process.pid, signal.SIGKILL)
        doomed.process.wait()
        doomed.start()  # as make run's supervisor does: a worker on the same queue, which kombu gives nothing
        time.sleep(3)
        assert Invocation.objects.filter(pk__in=[r.pk for r in waiting], status=InvocationStatus.QUEUED).count() == 3
        assert reaper.invocations_restore_stranded() == 0  # taken seconds ago, under STRANDED_AFTER_S (30 s): left alone
        monkeypatch.setattr(reaper, "STRANDED_AFTER_S", 1.0)
        assert reaper.invocations_restore_stranded() == 3  # not the running one: its row is the dead worker's (requeued by the reaper)
        assert reaper.invocations_restore_stranded() == 0
        _wait_succeeded(waiting, 30)
        assert {row.attempt for row in Invocation.objects.filter(pk__in=[r.pk for r in waiting])} == {1}
        assert not {str(r.pk) for r in waiting} & {u.invocation_id for u in invoke_unacked(older_than_s=0)}
    finally:
        doomed.stop()
        Invocation.objects.filter(pk=busy.pk).update(status=InvocationStatus.FAILED)  # the dead worker's: no reaper here



def test_the_resend_cut_off_covers_the_seconds_after_a_fresh_servers_start() -> None:
    """make chaos: rows published 1.2 s after a restart (before any worker reconnected) never reached a worker, and
    the cut-off at the server's start left them to the reaper. A fresh server, or one without Kiln's record, has
    everything queued until the notice sent again; only a server that has run for long keeps the cut-off at its start."""
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 12, 3, 14, 53, 29, tzinfo=UTC)
    assert recovery.resend_cutoff(now, uptime_s=5, record_kept=False) == now
    assert recovery.resend_cutoff(now, uptime_s=recovery.FRESH_SERVER_S, record_kept=True) == now  # the edge: still fresh
    assert recovery.resend_cutoff(now, uptime_s=recovery.FRESH_SERVER_S + 1, record_kept=True) == now - timedelta(seconds=recovery.FRESH_SERVER_S)
    assert recovery.resend_cutoff(now, uptime_s=3600, record_kept=False) == now  # lost its data without a restart


def test_a_message_held_for_its_countdown_is_not_taken_for_stranded() -> None:
    """Celery keeps a message with an ETA unacknowledged until it is due; the reaper leaves it to its live worker
    until the countdown ended ``STRANDED_AFTER_S`` ago (the edge: ended exactly then counts as held)."""
    from invoker.dispatch import _held_for_countdown

    since = 1_000_000.0
    assert _held_for_countdown(None, since) is False and _held_for_countdown("", since) is False
    assert _held_for_countdown("1970-01-12T13:46:41+00:00", since) is True  # due at since + 1 s
    assert _held_for_countdown("1970-01-12T13:46:40+00:00", since) is False  # due exactly at since
    assert _held_for_countdown("1970-01-12T13:46:39+00:00", since) is False
    assert _held_for_countdown("not a date", since) is False
