"""Two workers, as on two hosts (their own work dirs and host names, one database and one Redis): they share
the load, a function's reserved concurrency holds across both, and killing one mid-run loses nothing."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings

from invoker.models import Invocation, InvocationStatus
from invoker.workers import worker_alive
from tests.conftest import Worker, invoke

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def second_worker(worker: Worker) -> Iterator[Worker]:
    """Another worker on host ``kiln-host-b``, its own work dir (code cache, sandboxes, /tmp disks), beside the session's."""
    work = Path(settings.DATA_DIR) / "host-b-work"
    work.mkdir(exist_ok=True)
    work.chmod(0o711)
    other = Worker(node="host-b", env={"KILN_WORKER_HOST": "kiln-host-b", "KILN_WORK_DIR": str(work)})
    other.start()
    yield other
    other.stop()


def _submit(api, name: str, count: int, seconds: float) -> list[str]:
    ids = []
    for _ in range(count):
        response = invoke(api, name, {"seconds": seconds}, invocation_type="Event")
        assert response.status_code == 202, response.content
        ids.append(response.json()["request_id"])
    return ids


def _wait_final(ids: list[str], seconds: float, *, reap: bool = False) -> list[Invocation]:
    """Until every row is final; with ``reap``, run the reaper meanwhile, as beat would every few seconds."""
    from invoker.reaper import invocations_reap

    deadline = time.monotonic() + seconds
    while True:
        rows = list(Invocation.objects.filter(pk__in=ids))
        if all(row.status not in (InvocationStatus.QUEUED, InvocationStatus.RUNNING) for row in rows) and len(rows) == len(ids):
            return rows
        assert time.monotonic() < deadline, sorted((row.status, row.worker, row.attempt) for row in rows)
        if reap:
            invocations_reap()
        time.sleep(0.5)


# A row's started_at is its claim, taken before the concurrency lease (a claimed run waits for the lease script, and
# under load for the GIL, before it runs), so a run that took the lease another had just released can show a claim
# a few milliseconds before that other's finished_at. A real breach of the reservation runs a third 1-second
# function beside two others for most of a second: counted from claim + slack, it still shows.
CLAIM_TO_RUN_SLACK = timedelta(milliseconds=250)


def _most_at_once(rows: list[Invocation], slack: timedelta = timedelta(0)) -> int:
    edges = sorted([(row.started_at + slack, 1) for row in rows] + [(row.finished_at, -1) for row in rows], key=lambda e: (e[0], e[1]))
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def test_two_workers_share_the_load_and_a_reservation_holds_across_both(api, make_function, worker: Worker, second_worker: Worker) -> None:
    make_function("shared-load", handler="sleep")
    rows = _wait_final(_submit(api, "shared-load", 12, 0.4), 60)
    assert {row.status for row in rows} == {InvocationStatus.SUCCEEDED}
    hosts = {row.worker for row in rows}
    assert worker.name in hosts and second_worker.name in hosts, hosts  # both took work

    make_function("reserved-two", handler="sleep")
    assert api.put("/api/v1/functions/reserved-two/concurrency/", {"reserved": 2}, format="json").status_code == 200
    rows = _wait_final(_submit(api, "reserved-two", 8, 1.0), 90)
    assert {row.status for row in rows} == {InvocationStatus.SUCCEEDED}, [(r.status, r.error) for r in rows]
    assert all(isinstance(row.started_at, datetime) and row.finished_at for row in rows)
    # The two workers together never ran more than the two the function reserved (leases in the shared Redis).
    assert _most_at_once(rows, CLAIM_TO_RUN_SLACK) <= 2, [(r.worker, r.started_at, r.finished_at) for r in rows]
    assert any(row.attempt > 1 for row in rows)  # some were throttled, requeued and run later: not failed


def test_killing_one_worker_mid_run_loses_nothing(api, make_function, worker: Worker, second_worker: Worker) -> None:
    make_function("survives-a-host", handler="sleep")
    ids = _submit(api, "survives-a-host", 10, 2.0)
    deadline = time.monotonic() + 30
    while not Invocation.objects.filter(pk__in=ids, status=InvocationStatus.RUNNING, worker=second_worker.name).exists():
        assert time.monotonic() < deadline, "the second worker never took one"
        time.sleep(0.05)
    killed = second_worker.name
    held = set(Invocation.objects.filter(pk__in=ids, status=InvocationStatus.RUNNING, worker=killed).values_list("pk", flat=True))
    assert second_worker.process is not None
    os.kill(second_worker.process.pid, signal.SIGKILL)
    second_worker.process.wait()
    second_worker.process = None
    rows = _wait_final(ids, 120, reap=True)  # its heartbeat expires (15 s), then the reaper requeues what it held
    assert not worker_alive(killed)
    by_id = {row.pk: row for row in rows}
    assert {row.status for row in rows} == {InvocationStatus.SUCCEEDED}, [(r.status, r.worker, r.error) for r in rows]
    for pk in held:  # what the dead host was running ran again on the live one, recorded once
        assert by_id[pk].worker == worker.name and by_id[pk].attempt >= 2
        assert json.loads(by_id[pk].result) == "woke"
    assert len(rows) == len(ids) == len(set(ids))


def test_the_overlap_count_ignores_a_claim_just_before_a_finish_and_still_sees_a_breach() -> None:
    """The measure above, on made-up rows: a claim 5 ms before another run's finish is not a third at once; a
    third 1-second run beside two others is."""
    t0 = datetime(2026, 1, 1, 12, 0, 0)

    def row(start_ms: int, end_ms: int) -> Invocation:
        return Invocation(started_at=t0 + timedelta(milliseconds=start_ms), finished_at=t0 + timedelta(milliseconds=end_ms))

    handed_on = [row(0, 1000), row(10, 1010), row(995, 2000)]
    assert _most_at_once(handed_on) == 3 and _most_at_once(handed_on, CLAIM_TO_RUN_SLACK) == 2
    breach = [row(0, 1000), row(10, 1010), row(20, 1020)]
    assert _most_at_once(breach, CLAIM_TO_RUN_SLACK) == 3
