"""Submitting invocations and waiting for them: the web side of an invocation's life.

``invocation_submit`` validates the payload, writes the row ``QUEUED`` and enqueues it on commit (the durable
path of every asynchronous invocation, and of synchronous ones when direct calls are off, invoker/calls.py);
``invocation_wait`` blocks until a worker finishes it. Nothing here imports the sandbox stack.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from redis.exceptions import RedisError

from core.errors import InvalidRequestContent, NotFound, ServiceUnavailable, TooLarge, ValidationFailed
from functions.limits import ASYNC_PAYLOAD_MAX_BYTES, INIT_TIMEOUT_S, SYNC_PAYLOAD_MAX_BYTES
from functions.models import Function, FunctionRevision
from invoker import logs, wakeup
from invoker.dispatch import dispatch_invocation
from invoker.models import FINAL_STATUSES, Invocation, InvocationStatus, InvocationType, Trigger
from invoker.redis_client import get_redis
from invoker.rows import row_insert

log = logging.getLogger(__name__)


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
    invocation = row_insert(Invocation(
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
        parent_id=uuid_or_none(parent_id),
    ))
    dispatch_invocation(str(invocation.id), sync=invocation_type == InvocationType.REQUEST_RESPONSE)
    return invocation


def with_user(detail: dict[str, Any] | None, user: AbstractBaseUser | AnonymousUser | None) -> dict[str, Any]:
    detail = dict(detail or {})
    if user is not None and user.is_authenticated:
        detail["user"] = user.get_username()
    return detail


def uuid_or_none(value: str | None) -> uuid.UUID | None:
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
                                     parent_id=uuid_or_none(parent_id),
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

