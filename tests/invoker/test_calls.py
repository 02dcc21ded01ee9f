"""Synchronous calls without a row before they run (invoker/calls.py, invoker/callrunner.py), against the
real worker, PostgreSQL and Redis: one write when the call ends, the answer from the worker's push, and a
call no worker finishes recorded by its caller."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from invoker import calls
from invoker.calls import Job
from invoker.models import Invocation, InvocationStatus, InvocationType
from invoker.redis_client import get_redis
from tests.conftest import invoke


def _job(**overrides: object) -> Job:
    now = time.time()
    values = {"id": str(uuid.uuid4()), "function_id": 1, "function_name": "f", "revision_id": 2, "memory_size": 128, "qualifier": "$LATEST",
              "executed_version": "$LATEST", "client_context": "", "trigger": "api", "trigger_detail": {"user": "u"}, "payload": '{"a": 1}',
              "parent_id": None, "reserved_concurrency": None, "queued_at": now, "deadline": now + 5, "with_logs": False}
    return Job(**{**values, **overrides})  # type: ignore[arg-type]


def test_a_job_survives_its_wire_format() -> None:
    job = _job(reserved_concurrency=3, with_logs=True, trigger_detail={"route": "GET /x", "user": "ünï"})
    assert Job.decode(job.encode()) == job


def test_the_row_of_a_job_is_final_and_complete() -> None:
    job = _job()
    values = {"status": "succeeded", "result": "1", "error": None, "duration_ms": 1.5, "billed_duration_ms": 2, "max_memory_used_mb": 30,
              "init_duration_ms": None, "cold_start": False}
    row = calls.job_row(job, values, "log\n", started_at=job.queued_at, worker="w@h")
    assert row["id"] == job.id and row["invocation_type"] == InvocationType.REQUEST_RESPONSE and row["worker"] == "w@h"
    assert row["queued_at"] <= row["started_at"] <= row["finished_at"] and row["logs"] == "log\n" and row["payload"] == job.payload


def test_a_call_writes_its_row_once_when_it_ends(api, make_function, worker, transactional_db) -> None:
    make_function("call-sleep", "sleep", timeout=10)
    answer: dict = {}

    def call() -> None:
        answer["response"] = invoke(api, "call-sleep", {"seconds": 1.5})

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.8)
    # Running now, and no row for it: the call is recorded when it ends, not before.
    assert not Invocation.objects.filter(function_name="call-sleep").exists()
    thread.join(30)
    response = answer["response"]
    assert response.status_code == 200 and response.json() == "woke"
    rows = list(Invocation.objects.filter(function_name="call-sleep"))
    assert len(rows) == 1
    row = rows[0]
    assert str(row.id) == response["X-Kiln-Request-Id"] and row.status == InvocationStatus.SUCCEEDED and row.result == '"woke"'
    assert row.queued_at <= row.started_at <= row.finished_at and row.worker and row.duration_ms >= 1400
    assert "REPORT RequestId: " + str(row.id) in row.logs and row.trigger_detail.get("user") == "owner"


def test_a_call_answers_from_the_push_with_its_log_when_asked(api, make_function, worker, transactional_db) -> None:
    make_function("call-print", "print")
    response = invoke(api, "call-print", {"n": 7}, log_type="Tail")
    assert response.status_code == 200
    import base64

    tail = base64.b64decode(response["X-Kiln-Log-Result"]).decode()
    assert "to stdout 7" in tail and "END RequestId" in tail
    row = Invocation.objects.get(pk=response["X-Kiln-Request-Id"])
    assert row.logs.endswith(tail[-200:])


def test_a_call_whose_worker_stops_answering_is_recorded_worker_lost(make_function, transactional_db) -> None:
    """The job is handed to no worker; the caller is told a worker that has no heartbeat took it."""
    created = make_function("call-lost")
    from functions.models import Function

    function = Function.objects.get(name=created["name"])
    job = _job(function_id=function.pk, function_name=function.name, revision_id=function.latest_id)
    get_redis().set(calls.taken_key(job.id), "ghost@nowhere", ex=30)  # as the lease script of a worker would
    started = time.monotonic()
    lost = calls._await(job, job.encode())
    assert time.monotonic() - started < 3  # found at the first heartbeat check, not at the deadline
    assert lost.status == InvocationStatus.FAILED and lost.error["errorType"] == calls.WORKER_LOST and "ghost@nowhere" in lost.error["errorMessage"]
    assert Invocation.objects.filter(pk=job.id, status=InvocationStatus.FAILED).count() == 1


def test_a_call_no_worker_takes_is_recorded_and_never_runs_later(make_function, transactional_db, monkeypatch) -> None:
    created = make_function("call-untaken")
    from functions.models import Function

    function = Function.objects.select_related("latest").get(name=created["name"])
    monkeypatch.setattr(calls, "CALLS_KEY", f"kiln:calls:nobody-listens:{uuid.uuid4()}")  # a list no worker reads
    lost = calls.invocation_call(function=function, payload=b'{"x": 1}', timeout_s=0.5)
    assert lost.status == InvocationStatus.FAILED and "No worker took this invocation" in lost.error["errorMessage"]
    assert get_redis().llen(calls.CALLS_KEY) == 0  # taken back: it will not run after its caller gave up


def test_the_first_record_of_a_call_is_the_only_one(make_function, transactional_db) -> None:
    from functions.models import Function
    from invoker import rows

    created = make_function("call-once")
    function = Function.objects.get(name=created["name"])
    job = _job(function_id=function.pk, function_name=function.name, revision_id=function.latest_id)
    ok = {"status": "succeeded", "result": "1", "error": None, "duration_ms": 1.0, "billed_duration_ms": 1, "max_memory_used_mb": 1, "init_duration_ms": None, "cold_start": False}
    assert rows.row_insert_final(calls.job_row(job, ok, "", started_at=job.queued_at, worker="w"))
    assert not rows.row_insert_final(calls.job_row(job, {**ok, "status": "failed"}, "", started_at=job.queued_at, worker="other"))
    assert Invocation.objects.get(pk=job.id).status == InvocationStatus.SUCCEEDED


def test_a_function_deleted_while_its_call_runs_keeps_its_row(make_function, transactional_db) -> None:
    from functions.models import Function
    from functions.services import function_delete
    from invoker import callrunner

    created = make_function("call-deleted")
    function = Function.objects.get(name=created["name"])
    job = _job(function_id=function.pk, function_name=function.name, revision_id=function.latest_id)
    function_delete(function=function)
    ok = {"status": "succeeded", "result": "1", "error": None, "duration_ms": 1.0, "billed_duration_ms": 1, "max_memory_used_mb": 1, "init_duration_ms": None, "cold_start": False}
    callrunner._record(job, ok, "", job.queued_at)
    row = Invocation.objects.get(pk=job.id)
    assert row.function_id is None and row.function_name == "call-deleted"


@pytest.mark.parametrize("direct", [True, False])
def test_both_paths_answer_the_same(api, make_function, worker, transactional_db, settings, direct) -> None:
    settings.KILN_DIRECT_CALLS = direct
    make_function(f"call-same-{int(direct)}", "raise")
    response = invoke(api, f"call-same-{int(direct)}", {"why": "because"})
    assert response.status_code == 200 and response["X-Kiln-Function-Error"] == "Unhandled"
    assert response.json()["errorMessage"] == "boom: because"
    row = Invocation.objects.get(pk=response["X-Kiln-Request-Id"])
    assert row.status == InvocationStatus.FAILED and row.attempt == 1
