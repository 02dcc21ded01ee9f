"""Destinations of asynchronous invocations: the record Lambda sends OnSuccess / OnFailure, and its delivery.

``destination_record`` builds AWS's invocation record (``version`` 1.0, ``requestContext`` with the
condition and the approximate invoke count, the request and response payloads). ``destination_deliver``
queues it as an asynchronous invocation of the destination function, in the same transaction as the
finish of the invocation it reports, so a record is written exactly when its invocation is final.
Other kinds of destination (SQS queues, SNS topics) are registered in ``functions.destinations`` by the
apps that own them; ``destination_for`` finds the kind by ARN and ``destination_deliver`` calls its delivery.
"""

from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass
from typing import Any

from functions.destinations import DestinationKind, destination_kind_for
from functions.models import Function
from invoker.models import InvocationStatus, InvocationType, Trigger

log = logging.getLogger(__name__)
SUCCESS, RETRIES_EXHAUSTED, EVENT_AGE_EXCEEDED = "Success", "RetriesExhausted", "EventAgeExceeded"


def _json_or_text(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def destination_record(*, request_id: str, function_arn: str, version: str, condition: str, invoke_count: int, payload: str,
                       status: str, result: str | None, now: datetime.datetime | None = None) -> dict[str, Any]:
    """AWS's asynchronous invocation record for one finished (or given up) event."""
    now = now or datetime.datetime.now(datetime.UTC)
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": version}
    if condition != SUCCESS and status != InvocationStatus.THROTTLED:
        response["functionError"] = "Unhandled"
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "requestContext": {"requestId": request_id, "functionArn": f"{function_arn}:{version}", "condition": condition, "approximateInvokeCount": invoke_count},
        "requestPayload": _json_or_text(payload),
        "responseContext": response,
    }
    if condition != EVENT_AGE_EXCEEDED:
        record["responsePayload"] = _json_or_text(result)
    return record


@dataclass(frozen=True)
class KindTarget:
    """A destination of a registered kind (``functions.destinations``: SQS, SNS, ...) and its ARN."""

    kind: DestinationKind
    arn: str


def destination_for(arn: str) -> Function | KindTarget | None:
    """Where a record goes (``arn`` as configured, read by the claim with the invocation): a function, a registered kind's
    resource, or ``None`` (none configured, or gone: the record is dropped, as Lambda drops it)."""
    if not arn:
        return None
    kind = destination_kind_for(arn)
    if kind is not None:
        if not kind.check(arn):
            log.warning("destination %s no longer exists; the record is dropped", arn)
            return None
        return KindTarget(kind, arn)
    name = arn.split(":function:", 1)[-1].split(":", 1)[0]
    target = Function.objects.select_related("latest").filter(name=name).first()
    if target is None or target.latest is None:
        log.warning("destination %s no longer exists; the record is dropped", arn)
        return None
    return target


def destination_deliver(*, target: Function | KindTarget, record: dict[str, Any], parent_id: str) -> None:
    """Queue ``record`` as an asynchronous invocation of ``target``, or hand it to the target's kind, in the caller's transaction."""
    if isinstance(target, KindTarget):
        target.kind.deliver(target.arn, record, parent_id)
        return
    from invoker.submit import invocation_submit

    invocation_submit(function=target, payload=json.dumps(record).encode(), invocation_type=InvocationType.EVENT, trigger=Trigger.AWS,
                      trigger_detail={"destination_of": parent_id, "condition": record["requestContext"]["condition"]}, parent_id=parent_id)


def dead_letter_for(arn: str) -> KindTarget | None:
    """The ``DeadLetterConfig`` target a failed event goes to (read by the claim), or ``None``."""
    if not arn:
        return None
    kind = destination_kind_for(arn)
    if kind is None or kind.dead_letter is None or not kind.check(arn):
        log.warning("dead-letter target %s no longer exists; the event is dropped", arn)
        return None
    return KindTarget(kind, arn)


def dead_letter_deliver(*, target: KindTarget, payload: str, request_id: str, error: dict[str, Any] | None) -> None:
    """Send the failed event to the dead-letter queue or topic as Lambda does: the event as the body, with
    ``RequestID``, ``ErrorCode`` and ``ErrorMessage`` message attributes (in the caller's transaction)."""
    message = str((error or {}).get("errorMessage") or (error or {}).get("errorType") or "The function failed.")[:1000]
    attributes = {"RequestID": {"DataType": "String", "StringValue": request_id}, "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                  "ErrorMessage": {"DataType": "String", "StringValue": message}}
    assert target.kind.dead_letter is not None
    target.kind.dead_letter(target.arn, payload or "{}", attributes, request_id)
