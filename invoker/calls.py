"""Synchronous calls, the web side: no row before the run, one write when it ends.

A synchronous caller waits and learns of any failure itself, so its invocation needs no durable row
before it runs (issue 14 §4). ``invocation_call`` pushes a *job* (everything the run needs) on the Redis
list ``kiln:calls``; a worker's call thread (``invoker/callrunner.py``) pops it, notes which worker took it
(``kiln:taken:<id>``, set by the concurrency lease's own script), runs it, writes the finished row in one INSERT and pushes the *answer* to
``kiln:done:<id>``, which the caller reads instead of the row. Nothing is missing from history: a
worker that stops answering (its heartbeat gone) or a job no worker took before the caller's deadline is
recorded by the waiting caller (``Kiln.WorkerLost``); both sides insert with ``ON CONFLICT DO NOTHING``,
so the first record is the only one. Asynchronous invocations keep the write-before-enqueue path
(``invoker/submit.py``); so do replays (their caller follows the row) and, when Redis refuses the
push, this call (it falls back to the durable path).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone
from redis.exceptions import RedisError

from core.errors import InvalidRequestContent, ServiceUnavailable
from functions.models import Function, FunctionRevision
from invoker import rows, submit, wakeup
from invoker.models import Invocation, InvocationStatus, InvocationType, Trigger
from invoker.redis_client import get_redis
from invoker.workers import worker_alive

CALLS_KEY = "kiln:calls"
LIVENESS_CHECK_S = 1.0  # how often a waiting caller looks at the heartbeat of the worker that took its job
TAKE_GRACE_S = 2.0  # after the deadline, how long a job a worker took at the last moment is still waited for
WORKER_LOST = "Kiln.WorkerLost"


def taken_key(invocation_id: str) -> str:
    return f"kiln:taken:{invocation_id}"


def direct_calls_enabled() -> bool:
    return bool(settings.KILN_DIRECT_CALLS)


@dataclass(frozen=True)
class Job:
    """What a worker needs to run a synchronous call: the wire format of ``kiln:calls``."""

    id: str
    function_id: int
    function_name: str
    revision_id: int
    memory_size: int
    qualifier: str
    executed_version: str
    client_context: str
    trigger: str
    trigger_detail: dict[str, Any]
    payload: str
    parent_id: str | None
    reserved_concurrency: int | None
    queued_at: float  # epoch seconds
    deadline: float  # epoch seconds: the caller stops waiting then
    with_logs: bool

    def encode(self) -> bytes:
        return json.dumps(self.__dict__, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Job:
        return cls(**json.loads(raw))


# The answer pushed to kiln:done:<id> carries these columns of the finished row (and ``logs`` when asked).
ANSWER_FIELDS = ("status", "result", "error", "duration_ms", "billed_duration_ms", "max_memory_used_mb", "init_duration_ms", "cold_start", "executed_version")


def job_row(job: Job, values: dict[str, Any], logs: str, *, started_at: float | None, worker: str) -> dict[str, Any]:
    """The columns of the finished row of ``job`` (``values``: ``rows.FINISH_FIELDS`` but ``finished_at``)."""
    return {
        "id": job.id, "function_id": job.function_id, "function_name": job.function_name, "revision_id": job.revision_id,
        "qualifier": job.qualifier, "executed_version": job.executed_version, "client_context": job.client_context,
        "invocation_type": InvocationType.REQUEST_RESPONSE.value, "trigger": job.trigger, "trigger_detail": job.trigger_detail,
        "payload": job.payload, "memory_size": job.memory_size, "parent_id": job.parent_id, "worker": worker,
        "queued_at": _aware(job.queued_at), "started_at": _aware(started_at) if started_at else None, "finished_at": timezone.now(),
        "logs": logs, **values,
    }


def _aware(epoch: float) -> Any:
    import datetime

    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)


def invocation_call(
    *,
    function: Function,
    payload: bytes,
    revision: FunctionRevision | None = None,
    qualifier: str = "$LATEST",
    executed_version: str = "$LATEST",
    trigger: str = Trigger.API,
    trigger_detail: dict[str, Any] | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
    request_id: str | None = None,
    parent_id: str | None = None,
    client_context: str = "",
    timeout_s: float | None = None,
    with_logs: bool = False,
) -> Invocation:
    """Run a synchronous invocation and return it finished (an unsaved ``Invocation`` built from the worker's
    answer: its row is written by then). ``with_logs`` brings the log text along (``LogType=Tail``).

    With ``KILN_DIRECT_CALLS`` off, or Redis refusing the job, it is ``invocation_submit`` + ``invocation_wait``.
    """
    revision = revision or function.latest
    if revision is None:
        raise ServiceUnavailable(f"Function {function.name} has no code yet.")
    wait_s = timeout_s if timeout_s is not None else submit.sync_wait_seconds(revision)
    durable: dict[str, Any] = {"function": function, "payload": payload, "revision": revision, "qualifier": qualifier, "executed_version": executed_version,
               "trigger": trigger, "trigger_detail": trigger_detail, "user": user, "request_id": request_id, "parent_id": parent_id,
               "client_context": client_context}
    if not direct_calls_enabled():
        return submit.invocation_wait(submit.invocation_submit(**durable), timeout_s=wait_s)
    try:
        text = submit.payload_check(payload, InvocationType.REQUEST_RESPONSE)
    except UnicodeDecodeError:
        raise InvalidRequestContent("The event must be UTF-8 encoded JSON.") from None
    now = time.time()
    job = Job(id=str(uuid.UUID(request_id)) if request_id else str(uuid.uuid4()), function_id=function.pk, function_name=function.name,
              revision_id=revision.pk, memory_size=revision.memory_size, qualifier=qualifier, executed_version=executed_version,
              client_context=client_context, trigger=trigger, trigger_detail=submit.with_user(trigger_detail, user), payload=text,
              parent_id=str(parent) if (parent := submit.uuid_or_none(parent_id)) else None, reserved_concurrency=function.reserved_concurrency,
              queued_at=now, deadline=now + wait_s, with_logs=with_logs)
    encoded = job.encode()
    try:
        get_redis().rpush(CALLS_KEY, encoded)
    except RedisError:
        return submit.invocation_wait(submit.invocation_submit(**durable), timeout_s=wait_s)
    return _await(job, encoded)


def _await(job: Job, encoded: bytes) -> Invocation:
    """Wait for the answer of ``job``; record it ``Kiln.WorkerLost`` if its worker dies or no worker answers in time.

    Only the answer wakes the caller; between slices of ``LIVENESS_CHECK_S`` it reads who took the job and
    whether that worker's heartbeat is still there."""
    redis = get_redis()
    key = wakeup.key(job.id)
    taken_by = ""
    while True:
        remaining = job.deadline - time.time()
        if remaining <= 0:
            break
        try:
            item = redis.blpop([key], timeout=max(0.01, min(remaining, LIVENESS_CHECK_S)))
            if item is not None:
                return _answered(job, json.loads(item[1]))
            taken_by = (redis.get(taken_key(job.id)) or b"").decode()
        except RedisError:
            return _poll_row(job)
        if taken_by and not worker_alive(taken_by):
            return _record_lost(job, f"The worker running this invocation ({taken_by}) stopped answering before it finished.")
    if not taken_by and redis.lrem(CALLS_KEY, 1, encoded):
        return _record_lost(job, f"No worker took this invocation within {job.deadline - job.queued_at:.0f} s; it did not run.")
    # Taken (perhaps at the last moment): its worker may still answer.
    item = redis.blpop([key], timeout=TAKE_GRACE_S)
    if item is not None:
        return _answered(job, json.loads(item[1]))
    taken_by = taken_by or (redis.get(taken_key(job.id)) or b"").decode()
    return _record_lost(job, f"The worker running this invocation ({taken_by or 'unknown'}) did not finish it within {job.deadline - job.queued_at:.0f} s.")


def _answered(job: Job, message: dict[str, Any]) -> Invocation:
    invocation = Invocation(id=uuid.UUID(job.id), function_id=job.function_id, function_name=job.function_name, revision_id=job.revision_id,
                            qualifier=job.qualifier, client_context=job.client_context, invocation_type=InvocationType.REQUEST_RESPONSE,
                            trigger=job.trigger, trigger_detail=job.trigger_detail, memory_size=job.memory_size, logs=message.get("logs", ""))
    for name in ANSWER_FIELDS:
        setattr(invocation, name, message.get(name))
    invocation.status = InvocationStatus(invocation.status)
    return invocation


def _record_lost(job: Job, message: str) -> Invocation:
    """The caller's own record of a call no worker finished (unless a worker's record got there first)."""
    error = {"errorType": WORKER_LOST, "errorMessage": message, "stackTrace": []}
    values = {"status": InvocationStatus.FAILED.value, "result": json.dumps(error), "error": error, "duration_ms": None, "billed_duration_ms": None,
              "max_memory_used_mb": None, "init_duration_ms": None, "cold_start": False}
    rows.row_insert_final(job_row(job, values, f"[Kiln] {WORKER_LOST}: {message}\n", started_at=None, worker=""))
    return Invocation.objects.get(pk=job.id)


def _poll_row(job: Job) -> Invocation:
    """Redis failed while waiting: the worker's row is what answers (or, at the deadline, the caller's own record)."""
    while time.time() < job.deadline + TAKE_GRACE_S:
        found = Invocation.objects.filter(pk=job.id).first()
        if found is not None:
            return found
        time.sleep(0.05)
    return _record_lost(job, "Redis failed while this call waited, and no worker recorded it in time.")
