"""Running invocations: the worker side of an invocation's life.

``invocation_run`` claims a queued row with a conditional update, takes a concurrency lease and an environment,
runs the event (``run_in_environment``, shared with synchronous calls, invoker/callrunner.py) and settles it:
``invocation_finish`` moves the row from ``RUNNING`` to its final state in one conditional update and wakes a
synchronous caller; an asynchronous failure is queued again for its retry, or sent to its destinations.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Sum, Value
from django.db.models.functions import Concat
from django.utils import timezone
from redis.exceptions import RedisError

from core.arns import function_arn
from core.errors import ServiceUnavailable
from functions.models import Function, FunctionRevision
from functions.runtimes import runtime_info
from invoker import credentials, destinations, leases, logs, metering, rows, wakeup
from invoker.dispatch import dispatch_invocation
from invoker.environment import EnvironmentConfig, EnvironmentStopped, ExecutionEnvironment, RunResult
from invoker.models import Invocation, InvocationStatus, InvocationType, transition
from invoker.pool import Lease, get_pool
from invoker.workers import WORKER_NAME

log = logging.getLogger(__name__)


ASYNC_THROTTLE_BACKOFF_S = (1, 2, 4, 8, 16, 30)


_config_cache: dict[tuple[int, str], EnvironmentConfig] = {}


_config_lock = threading.Lock()


def environment_config(revision_id: int, version: str = "$LATEST") -> EnvironmentConfig:
    """The environment configuration of an (immutable) revision run as ``version``, cached per worker process.

    A published version gets environments of its own (its ``AWS_LAMBDA_FUNCTION_VERSION`` and ARN differ
    from ``$LATEST``'s even when the code is the same), so an alias shift does not restart warm ones.
    """
    cached = _config_cache.get((revision_id, version))
    if cached:
        return cached
    revision = FunctionRevision.objects.select_related("function").get(pk=revision_id)
    info = runtime_info(revision.runtime)
    if info is None:
        raise ServiceUnavailable(f"Runtime {revision.runtime} is not installed on worker {WORKER_NAME}.")
    config = EnvironmentConfig(
        key=str(revision.revision_id) if version == "$LATEST" else f"{revision.revision_id}@{version}",
        function_name=revision.function.name,
        function_arn=revision.function.arn if version == "$LATEST" else f"{revision.function.arn}:{version}",
        version=version,
        runtime=info,
        handler=revision.handler,
        memory_size=revision.memory_size,
        timeout=revision.timeout,
        ephemeral_storage=revision.ephemeral_storage,
        environment=dict(revision.environment),
        code_sha256=revision.code_sha256,
        code_zip=revision.code_zip.name,
        layers=tuple((lv.sha256, lv.zip_file.name) for lv in revision.ordered_layers()),
        network=revision.network,
        aws_credentials=True,
        role_id=revision.role_id,
    )
    with _config_lock:
        _config_cache[(revision_id, version)] = config
    return config


def invocation_claim(invocation_id: str) -> dict[str, Any] | None:
    """Claim a queued invocation for this worker (one conditional update); what it runs with, or
    ``None`` when it was not queued."""
    return rows.row_claim(invocation_id, WORKER_NAME)


@dataclass
class Outcome:
    status: str
    result: str | None
    error: dict[str, Any] | None
    logs: str
    duration_ms: float | None = None
    billed_duration_ms: int | None = None
    max_memory_used_mb: int | None = None
    init_duration_ms: float | None = None
    cold_start: bool = False
    # Leases held by the function and the account when this run was admitted (ConcurrentExecutions).
    concurrency: tuple[int, int] | None = None


def invocation_finish(invocation_id: str, outcome: Outcome, *, wake: bool = True) -> bool:
    """Move a running invocation to its final state, once; then wake a waiting caller (``wake=False``
    for an asynchronous invocation: nobody waits for it); then add the run to the metrics roll-ups,
    after the wake-up so a waiting caller does not wait for it."""
    done = rows.row_finish_returning(
        invocation_id,
        {
            "status": outcome.status,
            "result": outcome.result,
            "error": outcome.error,
            "duration_ms": outcome.duration_ms,
            "billed_duration_ms": outcome.billed_duration_ms,
            "max_memory_used_mb": outcome.max_memory_used_mb,
            "init_duration_ms": outcome.init_duration_ms,
            "cold_start": outcome.cold_start,
        },
        outcome.logs,
    )
    if done is None:
        return False
    if wake:
        try:
            wakeup.wake(invocation_id)
        except Exception as exc:  # noqa: BLE001 - the row is final; a waiter times out and reads it
            log.warning("could not wake waiter of %s: %s", invocation_id, exc)
    metering.run_record(function_name=done[0], memory_size=done[1], outcome=outcome)
    return True


def _normalised_error(error: dict[str, Any]) -> dict[str, Any]:
    trace = error.get("stackTrace", error.get("trace", []))
    return {"errorType": str(error.get("errorType", "Unhandled")), "errorMessage": str(error.get("errorMessage", "")), "stackTrace": trace if isinstance(trace, list) else [str(trace)]}


def outcome_of_run(request_id: str, config: EnvironmentConfig, run: RunResult, *, cold: bool, init_ms: float | None, init_output: str) -> Outcome:
    text = ""
    if cold:
        text += logs.init_start_line(config.runtime.identifier) + init_output
    text += run.pre_output if not cold else ""
    text += logs.start_line(request_id, config.version) + run.output
    if run.outcome == "timeout":
        text += logs.timeout_line(request_id, config.timeout)
    duration = run.duration_ms
    billed = math.ceil(duration + (init_ms or 0.0)) if run.outcome != "init_error" else math.ceil(init_ms or 0.0)
    text += logs.end_line(request_id)
    text += logs.report_line(request_id, duration_ms=duration, billed_ms=billed, memory_size=config.memory_size, max_memory_mb=run.max_memory_mb, init_ms=init_ms if cold else None)
    if run.outcome == "success":
        return Outcome(InvocationStatus.SUCCEEDED, run.body.decode("utf-8", "replace"), None, text, duration, billed, run.max_memory_mb, init_ms if cold else None, cold)
    error = dict(run.error or {"errorType": "Unhandled", "errorMessage": "unknown error"})
    status = InvocationStatus.TIMED_OUT if run.outcome == "timeout" else InvocationStatus.FAILED
    raw = run.body.decode("utf-8", "replace") if run.outcome == "error" and run.body else json.dumps(error)
    return Outcome(status, raw, _normalised_error(error), text, duration, billed, run.max_memory_mb, init_ms if cold else None, cold)


RESERVED_TOTAL_TTL_S = 2.0


_reserved_total_cache: tuple[float, int] = (0.0, 0)


def reserved_total() -> int:
    """Concurrency reserved by all functions together; read at most every ``RESERVED_TOTAL_TTL_S``.

    Only the size of the unreserved pool depends on it, so a reservation change reaches that pool
    within two seconds; a function's own reservation is read fresh with every invocation.
    """
    global _reserved_total_cache
    read_at, total = _reserved_total_cache
    if time.monotonic() - read_at > RESERVED_TOTAL_TTL_S:
        reserved = Function.objects.filter(reserved_concurrency__isnull=False)
        try:
            total = reserved.aggregate(total=Sum("reserved_concurrency"))["total"] or 0
        except (InterfaceError, OperationalError):
            # A connection the database dropped (a restart): a synchronous call's thread may meet it here first,
            # as its warm path reads nothing else before the run (CI saw this fail such a call). Once more, anew.
            connection.close()
            total = reserved.aggregate(total=Sum("reserved_concurrency"))["total"] or 0
        _reserved_total_cache = (time.monotonic(), total)
    return total


def invocation_run(invocation_id: str) -> None:
    """Run a queued invocation on this worker; a no-op when another worker has claimed it.

    Whatever goes wrong in Kiln itself after the claim, the row is finished (``failed``), so no
    invocation is left running and no synchronous caller waits out its timeout.
    """
    try:
        row = invocation_claim(invocation_id)
    except (InterfaceError, OperationalError) as exc:
        # A connection the database dropped (a restart, an idle kill): reconnect and claim once more.
        log.warning("claim of %s failed on a dead database connection (%s); reconnecting", invocation_id, exc)
        connection.close()
        row = invocation_claim(invocation_id)
    if row is None:
        return
    try:
        _run_claimed(invocation_id, row)
    except (RedisError, InterfaceError, OperationalError, EnvironmentStopped) as exc:
        # Kiln's infrastructure failed (Redis or the database away, the worker stopping its environments), not the
        # invocation: it goes back to the queue.
        _requeue_after_fault(invocation_id, row, exc)
    except Exception as exc:  # noqa: BLE001 - Kiln's own failure becomes the invocation's outcome
        log.exception("invocation %s failed inside Kiln", invocation_id)
        error = {"errorType": "Kiln.InternalError", "errorMessage": f"Kiln could not run this invocation: {type(exc).__name__}: {exc}", "stackTrace": []}
        invocation_finish(invocation_id, Outcome(InvocationStatus.FAILED, json.dumps(error), error, ""))


# Back to the queue: a lost worker's invocation, a throttled or failed asynchronous one waiting for its next attempt.
REQUEUE = transition(InvocationStatus.RUNNING, InvocationStatus.QUEUED)
FAULT_RETRY_DELAYS_S = (0.5, 1, 2, 4, 8)  # how long a worker keeps trying to put an invocation back (a database restart)


def _requeue_after_fault(invocation_id: str, row: dict[str, Any], exc: Exception) -> None:
    """Put a claimed invocation back in the queue after an infrastructure error (one conditional update), and
    re-send it; if the broker is away too, the reaper re-sends queued rows. Bounded by ``MAX_ATTEMPTS`` like a
    lost worker's invocations; after that the invocation fails saying why."""
    log.warning("invocation %s met an infrastructure error before it finished (%s: %s); putting it back in the queue", invocation_id, type(exc).__name__, exc)
    for delay in (*FAULT_RETRY_DELAYS_S, None):
        try:
            if row["attempt"] >= MAX_ATTEMPTS:
                error = {"errorType": "Kiln.InfrastructureError", "errorMessage": f"Kiln could not run this invocation after {row['attempt']} attempts: {type(exc).__name__}: {exc}", "stackTrace": []}
                invocation_finish(invocation_id, Outcome(InvocationStatus.FAILED, json.dumps(error), error, ""), wake=row["invocation_type"] == InvocationType.REQUEST_RESPONSE)
                return
            requeued = Invocation.objects.filter(id=invocation_id, status=REQUEUE[0], worker=WORKER_NAME).update(
                status=REQUEUE[1], attempt=F("attempt") + 1, started_at=None, worker="")
            break
        except (InterfaceError, OperationalError) as db_error:
            if delay is None:
                log.error("invocation %s could not be put back (%s); the reaper will requeue it", invocation_id, db_error)
                return
            connection.close()
            time.sleep(delay)
    if not requeued:
        return  # it was finished (the fault came after its finish) or already taken back
    try:
        dispatch_invocation(invocation_id, countdown=1)
    except Exception as send_error:  # noqa: BLE001 - the row is queued: the reaper re-sends it
        log.warning("invocation %s is queued again but could not be re-sent (%s); the reaper will send it", invocation_id, send_error)


def _run_claimed(invocation_id: str, row: dict[str, Any]) -> None:
    if row["revision_id"] is None or row["function_id"] is None:
        invocation_finish(invocation_id, Outcome(InvocationStatus.FAILED, None, {"errorType": "ResourceNotFoundException", "errorMessage": "The function was deleted before it ran.", "stackTrace": []}, ""))
        return
    try:
        config = environment_config(row["revision_id"], row["executed_version"] or "$LATEST")
    except ServiceUnavailable as exc:
        invocation_finish(invocation_id, Outcome(InvocationStatus.FAILED, None, {"errorType": "ServiceException", "errorMessage": exc.message, "stackTrace": []}, ""))
        return
    reserved = row["function__reserved_concurrency"]
    verdict, function_leases, account_leases, warm = admit(invocation_id, config, reserved=reserved)
    if verdict != "ok":
        _throttle(invocation_id, row, verdict, reserved)
        return
    try:
        _run_leased(invocation_id, row, config, (function_leases, account_leases), warm)
    finally:
        try:
            leases.lease_release(invocation_id=invocation_id, function_name=config.function_name)
        except RedisError as exc:  # the run is recorded; the lease expires by itself
            log.warning("concurrency lease of invocation %s not released (%s); it expires after %d s", invocation_id, exc, config.timeout + 30)


def admit(invocation_id: str, config: EnvironmentConfig, *, reserved: int | None,
          marks: tuple[leases.Mark, ...] = ()) -> tuple[str, int, int, ExecutionEnvironment | None]:
    """Take an idle warm environment of ``config`` if there is one, then the run's concurrency lease, whose script also
    sets ``marks`` and, for that environment, the note of the invocation it runs (invoker/credentials.py): one Redis
    round trip for both. The lease's verdict and counts (``leases.lease_acquire_counted``) and the environment, which
    goes back to the pool when the lease is refused (``None`` then, and when none was idle: the run starts one)."""
    pool = get_pool()
    warm = pool.take_warm(config)
    if warm is not None and warm.has_credentials:
        marks = (*marks, credentials.environment_invocation_mark(environment_id=warm.id, invocation_id=invocation_id, seconds=config.timeout + 60))
    try:
        verdict, function_leases, account_leases = leases.lease_acquire_counted(
            invocation_id=invocation_id,
            function_name=config.function_name,
            reserved=reserved,
            reserved_total=reserved_total() if reserved is None else 0,
            account_limit=settings.KILN_ACCOUNT_CONCURRENCY,
            seconds=config.timeout + 30,
            marks=marks,
        )
    except BaseException:
        if warm is not None:
            pool.give_back(warm)
        raise
    if verdict != "ok" and warm is not None:
        pool.give_back(warm)
        warm = None
    return verdict, function_leases, account_leases, warm


def _throttle_reason(verdict: str, reserved: int | None) -> str:
    return (
        "Rate Exceeded. The function's reserved concurrency is 0." if verdict == "function" and reserved == 0
        else f"Rate Exceeded. The function's reserved concurrency ({reserved}) is in use." if verdict == "function"
        else f"Rate Exceeded. The account's concurrency limit ({settings.KILN_ACCOUNT_CONCURRENCY}) is in use."
    )


def throttled_outcome(verdict: str, reserved: int | None, reason: str | None = None) -> Outcome:
    """A run refused for concurrency (``verdict``: the limit that is full), as Lambda's TooManyRequestsException."""
    return Outcome(InvocationStatus.THROTTLED, None, {"errorType": "TooManyRequestsException", "errorMessage": reason or _throttle_reason(verdict, reserved), "stackTrace": [],
                                                      "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded" if verdict == "function" else "ConcurrentInvocationLimitExceeded"}, "")


def _throttle(invocation_id: str, row: dict[str, Any], verdict: str, reserved: int | None) -> None:
    reason = _throttle_reason(verdict, reserved)
    if row["invocation_type"] == InvocationType.EVENT:
        # Asynchronous: back to the queue with backoff until the event's maximum age.
        delay = ASYNC_THROTTLE_BACKOFF_S[min(row["attempt"] - 1, len(ASYNC_THROTTLE_BACKOFF_S) - 1)]
        if _event_age_s(row) + delay <= row["function__async_max_event_age_s"]:
            with transaction.atomic():
                requeued = Invocation.objects.filter(id=invocation_id, status=REQUEUE[0]).update(
                    status=REQUEUE[1], attempt=F("attempt") + 1, started_at=None, worker=""
                )
                if requeued:
                    dispatch_invocation(invocation_id, countdown=delay)
            if requeued:
                metering.run_record(function_name=row["function_name"], memory_size=0, outcome=Outcome(InvocationStatus.THROTTLED, None, None, ""))
            return
        reason = f"The event reached its maximum age ({row['function__async_max_event_age_s']} s) while the function was throttled. {reason}"
    outcome = throttled_outcome(verdict, reserved, reason)
    if row["invocation_type"] == InvocationType.EVENT:
        _finish_event(invocation_id, row, outcome, destinations.EVENT_AGE_EXCEEDED)
        return
    invocation_finish(invocation_id, outcome)


def _event_age_s(row: dict[str, Any]) -> float:
    return (timezone.now() - row["queued_at"]).total_seconds()


def _settle(invocation_id: str, row: dict[str, Any], outcome: Outcome, memory_size: int = 0) -> None:
    """Finish the invocation, or, for an asynchronous one whose function failed, queue its next attempt
    after Lambda's retry delay while retries remain and the event is young enough."""
    retries_done = row["retries"]
    delays = settings.KILN_ASYNC_RETRY_DELAYS
    if (
        row["invocation_type"] == InvocationType.EVENT
        and outcome.status in (InvocationStatus.FAILED, InvocationStatus.TIMED_OUT)
        and retries_done < min(row["function__async_max_retries"], len(delays))
        and _event_age_s(row) + delays[retries_done] <= row["function__async_max_event_age_s"]
    ):
        with transaction.atomic():
            requeued = Invocation.objects.filter(id=invocation_id, status=REQUEUE[0]).update(
                status=REQUEUE[1], attempt=F("attempt") + 1, retries=F("retries") + 1, started_at=None, worker="",
                logs=Concat(F("logs"), Value(outcome.logs)), error=outcome.error, result=outcome.result,
            )
            if requeued:
                dispatch_invocation(invocation_id, countdown=delays[retries_done])
        if requeued:  # an attempt that will be retried is a run (and billed) too
            metering.run_record(function_name=row["function_name"], memory_size=memory_size, outcome=outcome)
        return
    if row["invocation_type"] == InvocationType.EVENT:
        _finish_event(invocation_id, row, outcome, destinations.RETRIES_EXHAUSTED)
        return
    invocation_finish(invocation_id, outcome, wake=True)


def _finish_event(invocation_id: str, row: dict[str, Any], outcome: Outcome, failure_condition: str) -> None:
    """Finish an asynchronous invocation and, in the same transaction, queue its record to the configured destination
    (and a failed event to the function's DeadLetterConfig target)."""
    succeeded = outcome.status == InvocationStatus.SUCCEEDED
    # The destinations came with the claim (no query on the hot path when none is configured).
    function = destinations.destination_for(row["function__async_on_success" if succeeded else "function__async_on_failure"])
    dead_letter = None if succeeded else destinations.dead_letter_for(row.get("function__dead_letter_target") or "")
    if function is None and dead_letter is None:
        invocation_finish(invocation_id, outcome, wake=False)
        return
    with transaction.atomic():
        if not invocation_finish(invocation_id, outcome, wake=False):
            return
        if function is not None:
            record = destinations.destination_record(
                request_id=invocation_id, function_arn=function_arn(row["function_name"]), version=row["executed_version"] or "$LATEST",
                condition=destinations.SUCCESS if succeeded else failure_condition, invoke_count=row["attempt"], payload=row["payload"],
                status=outcome.status, result=outcome.result)
            destinations.destination_deliver(target=function, record=record, parent_id=invocation_id)
        if dead_letter is not None:
            destinations.dead_letter_deliver(target=dead_letter, payload=row["payload"], request_id=invocation_id, error=outcome.error)


def _run_leased(invocation_id: str, row: dict[str, Any], config: EnvironmentConfig, concurrency: tuple[int, int] | None = None,
                warm: ExecutionEnvironment | None = None) -> None:
    outcome = run_in_environment(invocation_id, config, payload=row["payload"], client_context=row["client_context"] or None, warm=warm)
    outcome.concurrency = concurrency
    _settle(invocation_id, row, outcome, config.memory_size)


def run_in_environment(invocation_id: str, config: EnvironmentConfig, *, payload: str, client_context: str | None,
                       warm: ExecutionEnvironment | None = None) -> Outcome:
    """Run one event in a warm or a new environment of ``config`` (a cold start) and say how it went. ``warm``: the
    environment ``admit`` took and noted for this invocation (given back to the pool here, like any other)."""
    pool = get_pool()
    lease = Lease(warm, cold=False) if warm is not None else pool.acquire(config)
    env = lease.env
    if lease.init_failure is not None:
        failure = lease.init_failure
        failure.output = ""
        return outcome_of_run(invocation_id, config, failure, cold=True, init_ms=env.init_duration_ms or 0.0, init_output=env.init_output)
    try:
        if warm is None and env.has_credentials:  # a warm environment admit took is noted already
            credentials.environment_credentials_note_invocation(environment_id=env.id, invocation_id=invocation_id, seconds=config.timeout + 60)
        run = env.invoke(request_id=invocation_id, payload=payload.encode() if payload else b"{}", timeout_s=config.timeout, client_context=client_context)
    finally:
        pool.release(env)
    init_ms = env.init_duration_ms if lease.cold and env.initialization_type == "on-demand" else None
    return outcome_of_run(invocation_id, config, run, cold=lease.cold and init_ms is not None, init_ms=init_ms, init_output=run.pre_output)


MAX_ATTEMPTS = 3

