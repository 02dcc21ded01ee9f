"""Infrastructure faults are not the invocation's failure: an invocation claimed while Redis is away goes back to the
queue and runs, instead of ending ``failed`` with ``Kiln.InternalError`` (issue 15's finding).

The fault is real: this process's Redis client points at a port where nothing listens, while the broker and the real
worker keep theirs, so the invocation is claimed here, cannot take its concurrency lease, and is re-sent to the worker.
"""

from __future__ import annotations

import time
import uuid

from invoker import run
from invoker.models import Invocation, InvocationStatus
from invoker.redis_client import get_redis


def test_a_lease_that_cannot_be_taken_sends_the_invocation_back(api, make_function, worker, transactional_db, settings) -> None:
    function = make_function("fault-fn")
    from functions.models import Function

    fn = Function.objects.select_related("latest").get(name=function["name"])
    row = Invocation.objects.create(id=uuid.uuid4(), function=fn, function_name=fn.name, revision=fn.latest, payload='{"n": 1}')  # queued, not sent
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    get_redis.cache_clear()
    try:
        run.invocation_run(str(row.id))
    finally:
        get_redis.cache_clear()
    requeued = Invocation.objects.get(pk=row.pk)
    assert requeued.status in (InvocationStatus.QUEUED, InvocationStatus.RUNNING, InvocationStatus.SUCCEEDED) and requeued.attempt == 2
    deadline = time.monotonic() + 60
    while not Invocation.objects.filter(pk=row.pk, status=InvocationStatus.SUCCEEDED).exists():
        assert time.monotonic() < deadline, Invocation.objects.get(pk=row.pk).status
        time.sleep(0.2)
    done = Invocation.objects.get(pk=row.pk)
    assert done.result == '{"n": 1}' and done.error is None and done.attempt == 2


def test_after_its_attempts_an_infrastructure_fault_fails_the_invocation_saying_so(make_function, transactional_db, settings) -> None:
    function = make_function("fault-fn2")
    from functions.models import Function

    fn = Function.objects.select_related("latest").get(name=function["name"])
    row = Invocation.objects.create(id=uuid.uuid4(), function=fn, function_name=fn.name, revision=fn.latest, payload="{}", attempt=run.MAX_ATTEMPTS)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    get_redis.cache_clear()
    try:
        run.invocation_run(str(row.id))
    finally:
        get_redis.cache_clear()
    failed = Invocation.objects.get(pk=row.pk)
    assert failed.status == InvocationStatus.FAILED and failed.error["errorType"] == "Kiln.InfrastructureError"
    assert "ConnectionError" in failed.error["errorMessage"]


def _closing(target):
    """``target`` run in a thread that closes its database connection at the end (the test database is dropped after)."""
    from django.db import connection

    def run_then_close(*args: object) -> None:
        try:
            target(*args)
        finally:
            connection.close()

    return run_then_close


def _busy_environment(timeout_s: float = 30.0):
    """The environment of this process's pool that is running an event, once one is."""
    from invoker.environment import EnvState
    from invoker.pool import get_pool

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        busy = [e for e in get_pool().snapshot() if e["state"] == EnvState.BUSY.value]
        if busy:
            return busy[0]
        time.sleep(0.05)
    raise AssertionError("no environment of this process became busy")


def test_a_run_whose_worker_stops_its_environments_goes_back_to_the_queue_not_failed(make_function, worker, transactional_db) -> None:
    """A worker stopping (its shutdown stops every environment) while an asynchronous run is in flight: the run is
    Kiln's failure, not the function's ``Runtime.ExitError``; the invocation runs again, on the real worker."""
    import threading

    from functions.models import Function
    from invoker.pool import get_pool

    function = make_function("stopping-fn", "sleep")
    fn = Function.objects.select_related("latest").get(name=function["name"])
    row = Invocation.objects.create(id=uuid.uuid4(), function=fn, function_name=fn.name, revision=fn.latest, payload='{"seconds": 2}')
    runner = threading.Thread(target=_closing(run.invocation_run), args=(str(row.id),))
    runner.start()
    _busy_environment()
    get_pool().stop_all()  # what the worker's shutdown does
    runner.join(30)
    assert not runner.is_alive()
    again = Invocation.objects.get(pk=row.pk)
    assert again.attempt == 2 and again.error is None and again.status in (InvocationStatus.QUEUED, InvocationStatus.RUNNING, InvocationStatus.SUCCEEDED), (again.status, again.error, again.logs)
    deadline = time.monotonic() + 60
    while not Invocation.objects.filter(pk=row.pk, status=InvocationStatus.SUCCEEDED).exists():
        assert time.monotonic() < deadline, Invocation.objects.get(pk=row.pk).status
        time.sleep(0.2)
    done = Invocation.objects.get(pk=row.pk)
    assert done.result == '"woke"' and done.error is None and "Runtime.ExitError" not in done.logs


def test_a_call_whose_worker_stops_its_environments_is_recorded_as_the_worker_lost(make_function, transactional_db) -> None:
    """The same for a synchronous call (the worker's shutdown first lets calls finish, then stops what is left): its
    row and its caller's answer say Kiln's worker stopped, not that the function exited."""
    import threading

    from functions.models import Function
    from invoker import callrunner, wakeup
    from invoker.calls import Job

    function = make_function("stopping-call", "sleep")
    fn = Function.objects.select_related("latest").get(name=function["name"])
    now = time.time()
    job = Job(id=str(uuid.uuid4()), function_id=fn.pk, function_name=fn.name, revision_id=fn.latest.pk, memory_size=fn.latest.memory_size, qualifier="$LATEST",
              executed_version="$LATEST", client_context="", trigger="api", trigger_detail={}, payload='{"seconds": 5}', parent_id=None,
              reserved_concurrency=None, queued_at=now, deadline=now + 30, with_logs=False)
    runner = threading.Thread(target=_closing(callrunner.call_run), args=(job,))
    runner.start()
    _busy_environment()
    from invoker.pool import get_pool

    get_pool().stop_all()
    runner.join(30)
    assert not runner.is_alive()
    recorded = Invocation.objects.get(pk=job.id)
    assert recorded.status == InvocationStatus.FAILED and recorded.error["errorType"] == "Kiln.WorkerLost", recorded.error
    answer = get_redis().lpop(wakeup.key(job.id))
    assert answer is not None and b"Kiln.WorkerLost" in answer


def test_the_reserved_total_is_read_again_on_a_connection_the_database_dropped(transactional_db, monkeypatch) -> None:
    """Found by CI: a synchronous call's thread whose connection PostgreSQL had terminated met it first in this read
    (its warm path reads nothing else before the run), and the call failed with Kiln.InternalError."""
    import psycopg
    import pytest
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")}, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])
    monkeypatch.setattr(run, "_reserved_total_cache", (float("-inf"), -1))  # due for a read
    assert run.reserved_total() == 0
