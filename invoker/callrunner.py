"""Synchronous calls, the worker side: threads that pop jobs from ``kiln:calls`` and run them.

Each thread of a Celery worker process (``KILN_CALL_THREADS``, started at ``worker_ready``) blocks on the
list, takes a concurrency lease (whose script also notes, for the caller, which worker took the job), runs the event in an
environment (``run.run_in_environment``, the same as a queued invocation's run), releases the lease
and collects the call's denial lines in one pipeline, writes the finished row in one INSERT
(``rows.row_insert_final``) and pushes the answer the caller returns (invoker/calls.py). On shutdown a
thread finishes the call it runs and takes no other.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, close_old_connections, connection
from redis.exceptions import RedisError

from core.errors import ServiceUnavailable
from functions.models import FunctionRevision
from invoker import leases, metering, rows, run, submit, wakeup, workers
from invoker.calls import ANSWER_FIELDS, CALLS_KEY, WORKER_LOST, Job, job_row, taken_key
from invoker.environment import EnvironmentStopped
from invoker.models import InvocationStatus
from invoker.redis_client import get_redis

log = logging.getLogger(__name__)
POP_TIMEOUT_S = 1
RECORD_RETRY_DELAYS_S = (0.5, 1, 2, 4, 8)  # a database restart: the row is written when it is back

_stop = threading.Event()
_threads: list[threading.Thread] = []


def call_threads_start(count: int | None = None) -> None:
    _stop.clear()
    for n in range(count if count is not None else settings.KILN_CALL_THREADS):
        thread = threading.Thread(target=_loop, name=f"kiln-call-{n}", daemon=True)
        thread.start()
        _threads.append(thread)


def call_threads_stop(timeout_s: float = 30.0) -> None:
    """Let each thread finish the call it runs (bounded by ``timeout_s`` in all), then return."""
    _stop.set()
    deadline = time.monotonic() + timeout_s
    for thread in _threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    _threads.clear()


def _loop() -> None:
    redis = get_redis()
    while not _stop.is_set():
        try:
            item = redis.blpop([CALLS_KEY], timeout=POP_TIMEOUT_S)
        except RedisError as exc:
            log.warning("could not read synchronous calls (%s); trying again", exc)
            _stop.wait(1.0)
            continue
        if item is None:
            continue
        try:
            job = Job.decode(item[1])
        except (ValueError, TypeError) as exc:
            log.error("dropped a malformed synchronous call: %s", exc)
            continue
        close_old_connections()  # as before a task: CONN_MAX_AGE, and the health check once per grace period
        try:
            call_run(job)
        except Exception:  # noqa: BLE001 - one call's failure must not stop the thread
            log.exception("synchronous call %s failed inside Kiln", job.id)


def call_run(job: Job) -> None:
    """Run one synchronous call to the end: its row written, its answer pushed."""
    redis = get_redis()
    started_at = time.time()
    try:
        outcome, logs_before = _run(job)
    except Exception as exc:  # noqa: BLE001 - Kiln's own failure (the database away before the run, say) is the call's outcome
        log.exception("synchronous call %s failed inside Kiln", job.id)
        outcome, logs_before = _internal_error(exc), ""
    values = {name: getattr(outcome, name) for name in rows.FINISH_FIELDS if name != "finished_at"}  # job_row sets finished_at
    values["status"] = str(values["status"])
    text = logs_before + outcome.logs
    _record(job, values, text, started_at)
    answer: dict[str, Any] = {name: values.get(name) for name in ANSWER_FIELDS if name in values}
    answer["executed_version"] = job.executed_version
    if job.with_logs:
        answer["logs"] = text
    pipe = redis.pipeline(transaction=False)
    pipe.rpush(wakeup.key(job.id), json.dumps(answer).encode())
    pipe.expire(wakeup.key(job.id), wakeup.KEEP_SECONDS)
    pipe.execute()
    metering.run_record(function_name=job.function_name, memory_size=job.memory_size if outcome.status != InvocationStatus.THROTTLED else 0, outcome=outcome)


def _run(job: Job) -> tuple[run.Outcome, str]:
    """The outcome of the call and its denial lines (logged by the endpoint while it ran)."""
    try:
        try:
            config = run.environment_config(job.revision_id, job.executed_version or "$LATEST")
        except (InterfaceError, OperationalError):  # a connection the database dropped: once more on a new one
            connection.close()
            config = run.environment_config(job.revision_id, job.executed_version or "$LATEST")
    except ServiceUnavailable as exc:
        return run.Outcome(InvocationStatus.FAILED, None, {"errorType": "ServiceException", "errorMessage": exc.message, "stackTrace": []}, ""), ""
    except FunctionRevision.DoesNotExist:
        error = {"errorType": "ResourceNotFoundException", "errorMessage": "The function was deleted before it ran.", "stackTrace": []}
        return run.Outcome(InvocationStatus.FAILED, json.dumps(error), error, ""), ""
    reserved = job.reserved_concurrency
    verdict, function_leases, account_leases, warm = run.admit(
        job.id, config, reserved=reserved,
        marks=((taken_key(job.id), workers.WORKER_NAME, job.deadline - time.time() + 60),),  # who took it, for its caller
    )
    if verdict != "ok":
        return run.throttled_outcome(verdict, reserved), ""
    try:
        outcome = run.run_in_environment(job.id, config, payload=job.payload, client_context=job.client_context or None, warm=warm)
        outcome.concurrency = (function_leases, account_leases)
    except EnvironmentStopped as exc:  # the worker stops (its calls had their time to finish): Kiln's failure, said so
        log.warning("synchronous call %s: %s", job.id, exc)
        error = {"errorType": WORKER_LOST, "errorMessage": f"The worker running this invocation ({workers.WORKER_NAME}) stopped before it finished.", "stackTrace": []}
        outcome = run.Outcome(InvocationStatus.FAILED, json.dumps(error), error, "")
    except Exception as exc:  # noqa: BLE001 - Kiln's own failure becomes the call's outcome
        log.exception("synchronous call %s failed inside Kiln", job.id)
        outcome = _internal_error(exc)
    finally:
        denials: list[bytes] = []
        try:
            pipe = get_redis().pipeline(transaction=False)
            leases.lease_release_on(pipe, invocation_id=job.id, function_name=config.function_name)
            submit.denials_take(pipe, job.id)
            denials = pipe.execute()[3]
        except RedisError as exc:  # the lease expires by itself
            log.warning("concurrency lease of call %s not released (%s)", job.id, exc)
    return outcome, submit.denials_text(denials)


def _internal_error(exc: Exception) -> run.Outcome:
    error = {"errorType": "Kiln.InternalError", "errorMessage": f"Kiln could not run this invocation: {type(exc).__name__}: {exc}", "stackTrace": []}
    return run.Outcome(InvocationStatus.FAILED, json.dumps(error), error, "")


def _record(job: Job, values: dict[str, Any], logs: str, started_at: float) -> None:
    """The call's one write; a database away is waited for (its caller has the answer only after)."""
    row = job_row(job, values, logs, started_at=started_at, worker=workers.WORKER_NAME)
    for delay in (*RECORD_RETRY_DELAYS_S, None):
        try:
            rows.row_insert_final(row)
            return
        except IntegrityError:  # the function (or its revision) was deleted while the call ran: the row keeps its name
            row = {**row, "function_id": None, "revision_id": None}
            continue
        except (InterfaceError, OperationalError) as exc:
            if delay is None:
                log.error("the row of call %s could not be written (%s); its caller still gets the answer", job.id, exc)
                return
            connection.close()
            time.sleep(delay)
