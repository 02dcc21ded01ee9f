"""Target kinds: an ARN pattern and a deliver function per kind (Lambda, SQS, another event bus, SNS).

``deliver(delivery)`` sends one ``Delivery``'s payload and returns what to record (the invocation id, the
message id); it raises ``TargetFailure(code, message, retryable=...)`` with EventBridge's DLQ error code
(``RESOURCE_NOT_FOUND``, ``SDK_CLIENT_ERROR``, ...). Errors a retry cannot fix (a missing function or queue)
are not retried, as EventBridge documents. A kind may be registered from elsewhere with
``target_kind_register``.

SNS: ``topics`` sits below ``buses``, so the SNS kind calls ``topics.services.topic_publish_event``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError

from buses.errors import TargetFailure
from buses.models import Delivery
from core.errors import KilnError
from topics.services import topic_publish_event


@dataclass(frozen=True)
class TargetKind:
    name: str
    arn: re.Pattern[str]
    deliver: Callable[[Delivery], dict[str, Any]]


_KINDS: dict[str, TargetKind] = {}


def target_kind_register(kind: TargetKind) -> None:
    _KINDS[kind.name] = kind


def target_kind_for(arn: str) -> TargetKind | None:
    for kind in _KINDS.values():
        if kind.arn.match(arn or ""):
            return kind
    return None


# --- Lambda ----------------------------------------------------------------------------------------------------------

def _lambda(delivery: Delivery) -> dict[str, Any]:
    from functions.versions import qualified_resolve
    from invoker.models import Invocation, InvocationType, Trigger
    from invoker.submit import invocation_submit

    try:
        resolved = qualified_resolve(delivery.target_arn)
    except KilnError as error:
        raise TargetFailure("RESOURCE_NOT_FOUND", error.message, retryable=False) from None
    if resolved.revision is None:
        raise TargetFailure("RESOURCE_NOT_FOUND", f"Function {resolved.function.name} has no code.", retryable=False)
    # The invocation's id is the delivery's: a retry after a crash finds it instead of invoking twice.
    if Invocation.objects.filter(pk=delivery.pk).exists():
        return {"invocation_id": str(delivery.pk)}
    detail = {"bus": delivery.bus_name, "rule": delivery.rule_arn, "event_id": delivery.event_id, "target": delivery.target_id}
    try:
        invocation = invocation_submit(function=resolved.function, revision=resolved.revision, payload=delivery.payload.encode(),
                                       invocation_type=InvocationType.EVENT, trigger=Trigger.SCHEDULE if delivery.scheduled else Trigger.BUS,
                                       trigger_detail=detail, qualifier=resolved.qualifier or "$LATEST", executed_version=resolved.version,
                                       request_id=str(delivery.pk))
    except IntegrityError:
        return {"invocation_id": str(delivery.pk)}
    except KilnError as error:
        raise TargetFailure("SDK_CLIENT_ERROR", error.message, retryable=error.status >= 429) from None
    return {"invocation_id": str(invocation.id)}


# --- SQS -------------------------------------------------------------------------------------------------------------

def _sqs(delivery: Delivery) -> dict[str, Any]:
    from queues import messages
    from queues.selectors import queue_by_arn

    queue = queue_by_arn(delivery.target_arn)
    if queue is None:
        raise TargetFailure("RESOURCE_NOT_FOUND", f"Queue {delivery.target_arn} does not exist.", retryable=False)
    group = (delivery.parameters.get("SqsParameters") or {}).get("MessageGroupId")
    try:
        outgoing = messages.message_validate(queue=queue, body=delivery.payload, group_id=group if queue.fifo else None,
                                             deduplication_id=delivery.event_id if queue.fifo and not queue.content_based_deduplication else None)
        sent = messages.message_send(queue=queue, outgoing=outgoing, sender_id="events.amazonaws.com")
    except KilnError as error:
        raise TargetFailure("SDK_CLIENT_ERROR", error.message, retryable=False) from None
    return {"message_id": sent.message_id}


# --- another event bus -----------------------------------------------------------------------------------------------

def _bus(delivery: Delivery) -> dict[str, Any]:
    from buses import limits
    from buses.selectors import bus_find
    from buses.services import event_route

    name = delivery.target_arn.rsplit("/", 1)[-1]
    bus = bus_find(name)
    if bus is None:
        raise TargetFailure("RESOURCE_NOT_FOUND", f"Event bus {name} does not exist.", retryable=False)
    if delivery.hops >= limits.BUS_HOPS_MAX:
        raise TargetFailure("SDK_CLIENT_ERROR", f"The event was forwarded between buses {delivery.hops} times: dropped as a loop.", retryable=False)
    created = event_route(bus, json.loads(delivery.event), hops=delivery.hops + 1)
    return {"deliveries": len(created)}


# --- SNS -------------------------------------------------------------------------------------------------------------

def _sns(delivery: Delivery) -> dict[str, Any]:
    try:
        message_id = topic_publish_event(topic_arn=delivery.target_arn, message=delivery.payload)
    except KilnError as error:
        raise TargetFailure("RESOURCE_NOT_FOUND" if error.status == 404 else "SDK_CLIENT_ERROR", error.message, retryable=error.status >= 429) from None
    return {"message_id": str(message_id or uuid.uuid4())}


target_kind_register(TargetKind("lambda", re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$"), _lambda))
target_kind_register(TargetKind("sqs", re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$"), _sqs))
target_kind_register(TargetKind("event-bus", re.compile(r"^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[/.\-_A-Za-z0-9]{1,256}$"), _bus))
target_kind_register(TargetKind("sns", re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"), _sns))
