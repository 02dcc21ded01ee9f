"""Running deliveries: claim by conditional update, deliver through the target's kind, finish exactly once.

A failed attempt is retried with back-off (``limits.RETRY_BACKOFF``, capped) while the target's retry policy
allows (``MaximumRetryAttempts`` retries and ``MaximumEventAgeInSeconds`` since the event); then, or at once
for errors a retry cannot fix, the event goes to the target's dead-letter queue with EventBridge's message
attributes (``RULE_ARN``, ``TARGET_ARN``, ``ERROR_CODE``, ``ERROR_MESSAGE``, ``EXHAUSTED_RETRY_CONDITION``,
``RETRY_ATTEMPTS``), or is marked failed when the target has none. Beat's sweep re-enqueues deliveries whose
message was lost and releases claims a crashed worker left behind.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.db.models import F
from django.utils import timezone

from buses import limits
from buses.errors import TargetFailure
from buses.models import Delivery, DeliveryState

log = logging.getLogger(__name__)
CLAIM_STALE_S = 300.0
LOST_AFTER_S = 30.0


def delivery_enqueue(ids: list[str], *, countdown: float | None = None) -> None:
    from buses.tasks import deliver

    for delivery_id in ids:
        deliver.apply_async(args=[delivery_id], countdown=countdown)


def _backoff(attempt: int) -> float:
    return limits.RETRY_BACKOFF[min(attempt - 1, len(limits.RETRY_BACKOFF) - 1)]


def _finish(delivery: Delivery, state: str, **fields: Any) -> bool:
    return bool(Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.RUNNING).update(state=state, finished_at=timezone.now(), **fields))


def _dead_letter(delivery: Delivery, failure: TargetFailure, condition: str) -> str:
    """Send the event to the target's DLQ; the state to finish in."""
    from queues import messages
    from queues.selectors import queue_by_arn

    if not delivery.dead_letter_arn:
        return DeliveryState.FAILED
    queue = queue_by_arn(delivery.dead_letter_arn)
    if queue is None:
        log.warning("delivery %s: dead-letter queue %s does not exist", delivery.pk, delivery.dead_letter_arn)
        return DeliveryState.FAILED
    attributes = {"RULE_ARN": delivery.rule_arn, "TARGET_ARN": delivery.target_arn, "ERROR_CODE": failure.code,
                  "ERROR_MESSAGE": failure.message[:1000] or failure.code, "RETRY_ATTEMPTS": str(max(delivery.attempts - 1, 0))}
    if condition:
        attributes["EXHAUSTED_RETRY_CONDITION"] = condition
    try:
        outgoing = messages.message_validate(queue=queue, body=delivery.event, attributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
                                             group_id=delivery.rule_arn.rsplit("/", 1)[-1] if queue.fifo else None,
                                             deduplication_id=str(delivery.pk) if queue.fifo else None)
        messages.message_send(queue=queue, outgoing=outgoing, sender_id="events.amazonaws.com")
    except Exception:  # noqa: BLE001 - the delivery still finishes (failed), never stuck
        log.exception("delivery %s: could not write to its dead-letter queue", delivery.pk)
        return DeliveryState.FAILED
    return DeliveryState.DEAD_LETTERED


def delivery_run(delivery_id: str, *, now: datetime.datetime | None = None) -> str | None:
    """One attempt at a delivery (the task's body); its state afterwards, or ``None`` when it was not ours to run."""
    from buses.targets import target_kind_for

    now = now or timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now + datetime.timedelta(seconds=0.5)).update(
        state=DeliveryState.RUNNING, attempts=F("attempts") + 1, claimed_at=now)
    if not claimed:
        return None
    delivery = Delivery.objects.get(pk=delivery_id)
    kind = target_kind_for(delivery.target_arn)
    try:
        if kind is None:
            raise TargetFailure("RESOURCE_NOT_FOUND", f"No target kind serves {delivery.target_arn}.", retryable=False)
        result = kind.deliver(delivery)
    except TargetFailure as failure:
        return _failed(delivery, failure, now)
    except Exception as exc:  # noqa: BLE001 - an unexpected fault is an internal error, retried
        log.exception("delivery %s failed", delivery_id)
        return _failed(delivery, TargetFailure("INTERNAL_ERROR", str(exc)[:500] or exc.__class__.__name__), now)
    _finish(delivery, DeliveryState.SUCCEEDED, result=result, error_code="", error_message="")
    return DeliveryState.SUCCEEDED


def _failed(delivery: Delivery, failure: TargetFailure, now: datetime.datetime) -> str:
    retries_used = delivery.attempts - 1
    age = (now - delivery.created_at).total_seconds()
    delay = _backoff(delivery.attempts)
    condition = ""
    if not failure.retryable:
        pass
    elif retries_used >= delivery.retry_attempts:
        condition = "MaximumRetryAttempts"
    elif age + delay > delivery.max_event_age:
        condition = "MaximumEventAgeInSeconds"
    if failure.retryable and not condition:
        moved = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.RUNNING).update(
            state=DeliveryState.PENDING, next_attempt_at=now + datetime.timedelta(seconds=delay), error_code=failure.code,
            error_message=failure.message[:2000])
        if moved:
            delivery_enqueue([str(delivery.pk)], countdown=delay)
        return DeliveryState.PENDING
    state = _dead_letter(delivery, failure, condition)
    _finish(delivery, state, error_code=failure.code, error_message=failure.message[:2000])
    return state


def deliveries_sweep(now: datetime.datetime | None = None) -> int:
    """Re-enqueue due deliveries whose task went missing; release claims older than ``CLAIM_STALE_S``."""
    now = now or timezone.now()
    Delivery.objects.filter(state=DeliveryState.RUNNING, claimed_at__lt=now - datetime.timedelta(seconds=CLAIM_STALE_S)).update(
        state=DeliveryState.PENDING, next_attempt_at=now)
    lost = [str(pk) for pk in Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lt=now - datetime.timedelta(seconds=LOST_AFTER_S))
            .values_list("pk", flat=True)[:1000]]
    delivery_enqueue(lost)
    return len(lost)
