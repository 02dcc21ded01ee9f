"""The life of an invocation: submit, run on a worker, finish exactly once, wait for it.

``invocation_submit`` validates the payload, writes the row ``QUEUED`` and enqueues on commit.
``invocation_run`` (the worker's side) claims the row with a conditional update, takes a concurrency
lease and an environment, runs the event and calls ``invocation_finish``, which moves the row from
``RUNNING`` to its final state in one conditional update and then wakes a synchronous caller.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Sum, Value
from django.db.models.functions import Concat
from django.utils import timezone
from redis.exceptions import RedisError

from core.arns import function_arn
from core.errors import InvalidRequestContent, NotFound, ServiceUnavailable, TooLarge, ValidationFailed
from functions.limits import ASYNC_PAYLOAD_MAX_BYTES, INIT_TIMEOUT_S, SYNC_PAYLOAD_MAX_BYTES
from functions.models import Function, FunctionRevision
from functions.runtimes import runtime_info
from invoker import credentials, destinations, leases, logs, metering, rows, wakeup
from invoker.dispatch import dispatch_invocation, invoke_backlog
from invoker.environment import EnvironmentConfig, RunResult
from invoker.models import FINAL_STATUSES, Invocation, InvocationStatus, InvocationType, Trigger
from invoker.pool import get_pool
from invoker.redis_client import get_redis

log = logging.getLogger(__name__)
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"
ASYNC_THROTTLE_BACKOFF_S = (1, 2, 4, 8, 16, 30)


def payload_check(payload: bytes, invocation_type: str) -> str:
    """Return the payload as text, or raise the error Lambda would for it."""
    limit = SYNC_PAYLOAD_MAX_BYTES if invocation_type == InvocationType.REQUEST_RESPONSE else ASYNC_PAYLOAD_MAX_BYTES
    if len(payload) > limit:
        raise TooLarge(
            f"Request payload is {len(payload)} bytes; {invocation_type} invocations accept at most {limit} bytes.",
            details={"size": len(payload), "limit": limit},
        )
    text = payload.decode("utf-8", "strict") if payload else ""
    if text.strip():
        try:
            json.loads(text)
        except ValueError as exc:
            raise InvalidRequestContent(f"Could not parse request body into json: {exc}. The event must be a JSON document.") from None
    return text


def invocation_submit(
    *,
    function: Function,
    payload: bytes,
    invocation_type: str = InvocationType.REQUEST_RESPONSE,
    trigger: str = Trigger.API,
    trigger_detail: dict[str, Any] | None = None,
    revision: FunctionRevision | None = None,
    qualifier: str = "$LATEST",
    request_id: str | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
    parent_id: str | None = None,
    executed_version: str = "$LATEST",
    client_context: str = "",
) -> Invocation:
    """Write the invocation ``QUEUED`` and enqueue it once the row is committed.

    What caused it is recorded with it: ``trigger`` and ``trigger_detail`` (the route, the bucket and
    key, ...), the signed-in ``user`` whose call it was (REST, console, replay), and ``parent_id``, the
    request id of the invocation whose run caused this one (its function's write, or a replayed one).
    """
    if invocation_type not in InvocationType.values:
        raise ValidationFailed(f"invocation_type must be one of {', '.join(InvocationType.values)}.")
    try:
        text = payload_check(payload, invocation_type)
    except UnicodeDecodeError:
        raise InvalidRequestContent("The event must be UTF-8 encoded JSON.") from None
    revision = revision or function.latest
    if revision is None:
        raise ServiceUnavailable(f"Function {function.name} has no code yet.")
    # One INSERT in autocommit; inside a caller's transaction (a bucket write) the message still waits
    # for that transaction's commit, as dispatch uses on_commit.
    invocation = Invocation.objects.create(
        id=uuid.UUID(request_id) if request_id else uuid.uuid4(),
        function=function,
        function_name=function.name,
        revision=revision,
        qualifier=qualifier,
        executed_version=executed_version,
        client_context=client_context,
        invocation_type=invocation_type,
        trigger=trigger,
        trigger_detail=with_user(trigger_detail, user),
        payload=text,
        memory_size=revision.memory_size,
        parent_id=_uuid_or_none(parent_id),
    )
    dispatch_invocation(str(invocation.id))
    return invocation


def with_user(detail: dict[str, Any] | None, user: AbstractBaseUser | AnonymousUser | None) -> dict[str, Any]:
    detail = dict(detail or {})
    if user is not None and user.is_authenticated:
        detail["user"] = user.get_username()
    return detail


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


REPLAY_QUALIFIERS = ("$LATEST", "original")


def invocation_replay(*, original: Invocation, qualifier: str, user: AbstractBaseUser | AnonymousUser | None) -> Invocation:
    """Run ``original``'s event again, against ``$LATEST`` or the revision it first ran on
    (``"original"``), as a new invocation caused by the replay (its parent is ``original``).

    The replay is submitted like a synchronous call, so it runs once (no asynchronous retries) and
    takes events up to 6 MB, but nobody waits for it: the caller follows its request id.
    """
    if qualifier not in REPLAY_QUALIFIERS:
        raise ValidationFailed(f"qualifier must be one of {', '.join(REPLAY_QUALIFIERS)}, not {qualifier!r}.", details={"field": "qualifier"})
    function = Function.objects.select_related("latest").filter(pk=original.function_id).first() if original.function_id else None
    if function is None:
        raise NotFound(f"The function of invocation {original.id} ({original.function_name}) no longer exists; it cannot be replayed.")
    revision = function.latest
    recorded_qualifier, executed = "$LATEST", "$LATEST"
    if qualifier == "original":
        revision = FunctionRevision.objects.filter(pk=original.revision_id).first() if original.revision_id else None
        if revision is None:
            raise NotFound(f"The revision invocation {original.id} ran on no longer exists; replay it on $LATEST.")
        recorded_qualifier, executed = original.qualifier, original.executed_version
    detail = {"replay_of": str(original.id), "qualifier": qualifier, "original_trigger": original.trigger}
    return invocation_submit(function=function, payload=original.payload.encode(), trigger=Trigger.REPLAY, trigger_detail=detail,
                             revision=revision, qualifier=recorded_qualifier, user=user, parent_id=str(original.id),
                             executed_version=executed)


def invocation_record_stopped(*, function: Function, payload: bytes, trigger: str, trigger_detail: dict[str, Any], error: dict[str, Any],
                              parent_id: str | None = None) -> Invocation:
    """Record an asynchronous invocation Kiln stopped before it ran (a recursive loop): final, ``failed``, never
    queued; ``parent_id`` is the invocation whose write caused it, so the console shows the loop's chain."""
    revision = function.latest
    now = timezone.now()
    return Invocation.objects.create(function=function, function_name=function.name, revision=revision, invocation_type=InvocationType.EVENT,
                                     parent_id=_uuid_or_none(parent_id),
                                     trigger=trigger, trigger_detail=trigger_detail, payload=payload.decode("utf-8", "replace"), status=InvocationStatus.FAILED,
                                     error=error, result=json.dumps(error), started_at=now, finished_at=now,
                                     memory_size=revision.memory_size if revision else 128, logs=f"[Kiln] {error['errorType']}: {error['errorMessage']}\n")


def invocation_logs_purge(*, function_name: str, finished_before: datetime | None = None) -> int:
    """Empty the log text of the function's finished invocations (all, or those finished before the given
    time): CloudWatch Logs retention and DeleteLogGroup of ``/aws/lambda/<name>``. The rows stay history."""
    query = Invocation.objects.filter(function_name=function_name, status__in=FINAL_STATUSES).exclude(logs="")
    if finished_before is not None:
        query = query.filter(finished_at__lt=finished_before)
    return query.update(logs="")


def invocation_wait(invocation: Invocation, *, timeout_s: float) -> Invocation:
    """Wait for a worker to finish the invocation (or ``timeout_s``) and return the row as it is.

    The wake-up comes through Redis; if Redis fails while waiting, the row is polled instead.
    """
    deadline = time.monotonic() + timeout_s
    try:
        wakeup.wait(str(invocation.id), timeout_s)
    except RedisError as exc:
        log.warning("wake-up for %s failed (%s); polling the row", invocation.id, exc)
        while time.monotonic() < deadline:
            if Invocation.objects.filter(pk=invocation.pk, status__in=FINAL_STATUSES).exists():
                break
            time.sleep(0.05)
    # What the answer needs is the outcome: the event (up to 6 MB) and the log (up to 256 KB, read only
    # if a caller asks for it, e.g. ``log_type=Tail``) are not read back.
    return Invocation.objects.defer("payload", "logs", "trigger_detail").get(pk=invocation.pk)


def sync_wait_seconds(revision: FunctionRevision) -> float:
    """How long a synchronous caller waits: the function's timeout, its init limit and a margin."""
    return revision.timeout + INIT_TIMEOUT_S + settings.KILN_SYNC_WAIT_MARGIN_SECONDS


# -- the worker's side ---------------------------------------------------------------------------
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
        total = Function.objects.filter(reserved_concurrency__isnull=False).aggregate(total=Sum("reserved_concurrency"))["total"] or 0
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
    except (RedisError, InterfaceError, OperationalError) as exc:
        # Kiln's infrastructure failed (Redis or the database away), not the invocation: it goes back to the queue.
        _requeue_after_fault(invocation_id, row, exc)
    except Exception as exc:  # noqa: BLE001 - Kiln's own failure becomes the invocation's outcome
        log.exception("invocation %s failed inside Kiln", invocation_id)
        error = {"errorType": "Kiln.InternalError", "errorMessage": f"Kiln could not run this invocation: {type(exc).__name__}: {exc}", "stackTrace": []}
        invocation_finish(invocation_id, Outcome(InvocationStatus.FAILED, json.dumps(error), error, ""))


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
            requeued = Invocation.objects.filter(id=invocation_id, status=InvocationStatus.RUNNING, worker=WORKER_NAME).update(
                status=InvocationStatus.QUEUED, attempt=F("attempt") + 1, started_at=None, worker="")
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
    verdict, function_leases, account_leases = leases.lease_acquire_counted(
        invocation_id=invocation_id,
        function_name=config.function_name,
        reserved=reserved,
        reserved_total=reserved_total() if reserved is None else 0,
        account_limit=settings.KILN_ACCOUNT_CONCURRENCY,
        seconds=config.timeout + 30,
    )
    if verdict != "ok":
        _throttle(invocation_id, row, verdict, reserved)
        return
    try:
        _run_leased(invocation_id, row, config, (function_leases, account_leases))
    finally:
        try:
            leases.lease_release(invocation_id=invocation_id, function_name=config.function_name)
        except RedisError as exc:  # the run is recorded; the lease expires by itself
            log.warning("concurrency lease of invocation %s not released (%s); it expires after %d s", invocation_id, exc, config.timeout + 30)


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
                requeued = Invocation.objects.filter(id=invocation_id, status=InvocationStatus.RUNNING).update(
                    status=InvocationStatus.QUEUED, attempt=F("attempt") + 1, started_at=None, worker=""
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
            requeued = Invocation.objects.filter(id=invocation_id, status=InvocationStatus.RUNNING).update(
                status=InvocationStatus.QUEUED, attempt=F("attempt") + 1, retries=F("retries") + 1, started_at=None, worker="",
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


def _run_leased(invocation_id: str, row: dict[str, Any], config: EnvironmentConfig, concurrency: tuple[int, int] | None = None) -> None:
    outcome = run_in_environment(invocation_id, config, payload=row["payload"], client_context=row["client_context"] or None)
    outcome.concurrency = concurrency
    _settle(invocation_id, row, outcome, config.memory_size)


def run_in_environment(invocation_id: str, config: EnvironmentConfig, *, payload: str, client_context: str | None) -> Outcome:
    """Run one event in a warm or a new environment of ``config`` (a cold start) and say how it went."""
    pool = get_pool()
    lease = pool.acquire(config)
    env = lease.env
    if lease.init_failure is not None:
        failure = lease.init_failure
        failure.output = ""
        return outcome_of_run(invocation_id, config, failure, cold=True, init_ms=env.init_duration_ms or 0.0, init_output=env.init_output)
    try:
        if env.has_credentials:
            credentials.environment_credentials_note_invocation(environment_id=env.id, invocation_id=invocation_id, seconds=config.timeout + 60)
        run = env.invoke(request_id=invocation_id, payload=payload.encode() if payload else b"{}", timeout_s=config.timeout, client_context=client_context)
    finally:
        pool.release(env)
    init_ms = env.init_duration_ms if lease.cold and env.initialization_type == "on-demand" else None
    return outcome_of_run(invocation_id, config, run, cold=lease.cold and init_ms is not None, init_ms=init_ms, init_output=run.pre_output)


DENIALS_KEEP_S = 3600


def _denials_key(invocation_id: str) -> str:
    return f"kiln:denials:{invocation_id}"


def invocation_log_denial(*, invocation_id: str, message: str) -> None:
    """Append an IAM denial of a request its function made to a running invocation's log (aws/context.py).

    It lands before the invocation's own lines, which are appended when it finishes. A synchronous call has
    no row while it runs (invoker/calls.py): its denials wait in Redis for the worker's one write."""
    line = logs.denied_line(invocation_id, message)
    if Invocation.objects.filter(pk=invocation_id, status=InvocationStatus.RUNNING).update(logs=Concat(F("logs"), Value(line))):
        return
    pipe = get_redis().pipeline(transaction=False)
    pipe.rpush(_denials_key(invocation_id), line.encode())
    pipe.expire(_denials_key(invocation_id), DENIALS_KEEP_S)
    pipe.execute()


def denials_take(pipe: Any, invocation_id: str) -> None:
    """Queue on ``pipe`` the read and removal of a call's denial lines; ``denials_text`` reads its two results."""
    pipe.lrange(_denials_key(invocation_id), 0, -1)
    pipe.delete(_denials_key(invocation_id))


def denials_text(lines: list[bytes]) -> str:
    return "".join(line.decode("utf-8", "replace") for line in lines)


# -- reaping -------------------------------------------------------------------------------------
REDISPATCH_AFTER_S = 30
REDISPATCH_IN_BACKLOG_AFTER_S = 300
MAX_ATTEMPTS = 3


def worker_alive(name: str) -> bool:
    from invoker.redis_client import get_redis

    return bool(name) and get_redis().exists(f"kiln:worker:{name}") == 1


def redispatch_after_s(backlog: int | None) -> int:
    """How old a queued row must be for the reaper to send it again, given the messages waiting in the broker."""
    return REDISPATCH_IN_BACKLOG_AFTER_S if backlog else REDISPATCH_AFTER_S


def invocations_reap() -> dict[str, int]:
    """Re-send invocations whose message may be lost; requeue or fail those whose worker vanished."""
    now = timezone.now()
    counts = {"redispatched": 0, "requeued": 0, "failed": 0}
    # While messages wait in the broker, a row queued 30 s ago is most likely one of them (a backlog after a
    # worker restart): re-sending it would only add to the queue, so then only rows waiting far longer are re-sent.
    # A broker that lost its messages is noticed by the workers' heartbeats instead (invoker/recovery.py).
    stale_after = redispatch_after_s(invoke_backlog())
    stale_queued = Invocation.objects.filter(status=InvocationStatus.QUEUED, queued_at__lt=now - timedelta(seconds=stale_after)).values_list("id", flat=True)[:1000]
    for invocation_id in stale_queued:
        dispatch_invocation(str(invocation_id))
        counts["redispatched"] += 1
    running = Invocation.objects.filter(status=InvocationStatus.RUNNING, started_at__lt=now - timedelta(seconds=15)).values("id", "worker", "attempt", "started_at", "revision__timeout")[:1000]
    for row in running:
        overdue = row["started_at"] < now - timedelta(seconds=(row["revision__timeout"] or 900) + 60)
        alive = worker_alive(row["worker"])
        if alive and not overdue:
            continue
        # A dead worker's invocation goes back to the queue however long ago it started (the reaper may come late:
        # no worker ran it meanwhile); one a live worker holds past its deadline is stuck there and fails.
        if row["attempt"] < MAX_ATTEMPTS and not alive:
            with transaction.atomic():
                if Invocation.objects.filter(id=row["id"], status=InvocationStatus.RUNNING, worker=row["worker"]).update(status=InvocationStatus.QUEUED, attempt=F("attempt") + 1, started_at=None, worker=""):
                    dispatch_invocation(str(row["id"]))
                    counts["requeued"] += 1
        else:
            error = {"errorType": "Kiln.WorkerLost", "errorMessage": f"The worker running this invocation ({row['worker']}) stopped answering; gave up after {row['attempt']} attempt(s).", "stackTrace": []}
            if invocation_finish(str(row["id"]), Outcome(InvocationStatus.FAILED, json.dumps(error), error, "")):
                counts["failed"] += 1
    return counts
