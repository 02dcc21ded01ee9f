"""Sending deliveries: claim the row, deliver by protocol, finish it exactly once; retry, then dead-letter.

- Claim: ``UPDATE ... SET status = delivering WHERE id = .. AND status = pending AND next_attempt_at <= now``
  (for a FIFO topic also: no earlier open delivery of the same subscription and message group, so groups are
  delivered in order; the delivery that finishes sends the next one).
- Lambda and SQS targets are rows in this database: the invocation (or queue message) and the delivery's
  finish are one transaction, so each message is handed over exactly once.
- HTTP/S: POSTed after the claim committed; 2xx-4xx is delivered (as SNS counts it), 5xx, a timeout (15 s) or a
  connection failure is retried by the subscription's (or topic's) delivery policy.
- Client-side failures (the function or queue is gone, the queue refuses the message) are not retried; they
  and spent retries go to the subscription's ``RedrivePolicy`` queue, or are dropped (``failed``).
"""

from __future__ import annotations

import datetime
import json
import logging
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from core.errors import KilnError
from functions.versions import qualified_resolve
from invoker.models import InvocationType, Trigger
from invoker.submit import invocation_submit
from queues import messages as queue_messages
from queues.selectors import queue_by_arn
from topics import envelope, limits
from topics.attributes import effective_topic_policy, http_retry_policy
from topics.dispatch import dispatch_delivery
from topics.models import OPEN_STATUSES, Deduplication, Delivery, DeliveryKind, DeliveryStatus, Message, Protocol, Subscription

log = logging.getLogger(__name__)
_EARLY_S = 0.5  # a task may run this much before the row is due (clock skew between processes)


class DeliveryFailed(Exception):
    """An attempt failed; ``client`` failures are not retried."""

    def __init__(self, code: str, message: str, *, client: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client = client


@dataclass(frozen=True)
class Outcome:
    status: str
    detail: str = ""


def _claim(delivery_id: int) -> Delivery | None:
    now = timezone.now()
    rows = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now + datetime.timedelta(seconds=_EARLY_S))
    earlier = Delivery.objects.filter(subscription_id=OuterRef("subscription_id"), group_id=OuterRef("group_id"), id__lt=OuterRef("id"),
                                      status__in=OPEN_STATUSES)
    rows = rows.filter(Q(group_id="") | ~Exists(earlier))
    if rows.update(status=DeliveryStatus.DELIVERING, claimed_at=now, attempts=F("attempts") + 1) != 1:
        return None
    return Delivery.objects.select_related("subscription__topic", "message").get(pk=delivery_id)


def _finish(delivery: Delivery, status: str, error: str = "") -> bool:
    """Move the claimed row to its end (or back to pending); ``False`` when it is no longer this claim's."""
    return Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.DELIVERING, attempts=delivery.attempts).update(
        status=status, finished_at=timezone.now() if status != DeliveryStatus.PENDING else None, last_error=error[:2000]) == 1


def _next_in_group(delivery: Delivery) -> None:
    if delivery.group_id:
        following = Delivery.objects.filter(subscription_id=delivery.subscription_id, group_id=delivery.group_id, id__gt=delivery.pk,
                                            status=DeliveryStatus.PENDING).order_by("id").values_list("pk", flat=True).first()
        if following is not None:
            dispatch_delivery(following)


# --- targets ---------------------------------------------------------------------------------------------------------

def _to_lambda(delivery: Delivery) -> None:
    subscription, message = delivery.subscription, delivery.message
    assert message is not None
    try:
        resolved = qualified_resolve(subscription.endpoint)
    except KilnError as error:
        raise DeliveryFailed("ResourceNotFoundException", error.message, client=True) from None
    if resolved.revision is None:
        raise DeliveryFailed("ResourceNotFoundException", f"Function {resolved.function.name} has no code.", client=True)
    payload = json.dumps(envelope.lambda_event(message, subscription)).encode()
    try:
        invocation_submit(function=resolved.function, revision=resolved.revision, payload=payload, invocation_type=InvocationType.EVENT,
                          trigger=Trigger.TOPIC, qualifier=resolved.qualifier or "$LATEST", executed_version=resolved.version,
                          parent_id=message.parent_invocation_id or None,
                          trigger_detail={"topic_arn": subscription.topic.arn, "message_id": str(message.message_id), "subscription_arn": subscription.arn})
    except KilnError as error:
        raise DeliveryFailed(error.code, error.message, client=error.status < 500) from None


def _sqs_body(delivery: Delivery) -> tuple[str, dict[str, dict[str, str]]]:
    subscription, message = delivery.subscription, delivery.message
    assert message is not None
    if subscription.raw_message_delivery:
        attributes = {name: ({"DataType": v["DataType"], "BinaryValue": v["BinaryValue"]} if "BinaryValue" in v else {"DataType": v["DataType"], "StringValue": v["StringValue"]})
                      for name, v in message.attributes.items()}
        return message.body_for(Protocol.SQS), attributes
    return envelope.envelope_text(envelope.notification(message, subscription)), {}


def sqs_send(arn: str, body: str, attributes: dict[str, dict[str, str]], *, group_id: str = "", deduplication_id: str = "", sender: str = "") -> str:
    """Send to the queue ``arn`` (as SNS does, in the caller's transaction); a missing queue or a refused message is a client failure."""
    queue = queue_by_arn(arn)
    if queue is None:
        raise DeliveryFailed("AWS.SimpleQueueService.NonExistentQueue", f"The queue {arn} does not exist.", client=True)
    try:
        outgoing = queue_messages.message_validate(queue=queue, body=body, attributes=attributes or None, group_id=group_id if (queue.fifo or group_id) else None,
                                                   deduplication_id=deduplication_id if queue.fifo else None)
        return queue_messages.message_send(queue=queue, outgoing=outgoing, sender_id=sender).message_id
    except KilnError as error:
        raise DeliveryFailed(error.code, error.message, client=error.status < 500) from None


def _to_sqs(delivery: Delivery) -> None:
    message = delivery.message
    assert message is not None
    body, attributes = _sqs_body(delivery)
    topic_fifo = delivery.subscription.topic.fifo
    sqs_send(delivery.subscription.endpoint, body, attributes, group_id=message.group_id,
             deduplication_id=message.deduplication_id if topic_fifo else "", sender=delivery.subscription.owner)


def _post(delivery: Delivery) -> None:
    subscription = delivery.subscription
    if delivery.kind == DeliveryKind.CONFIRMATION:
        document = envelope.confirmation(subscription, message_id=str(uuid.uuid4()), at=timezone.now())
        data = envelope.envelope_text(document)
    else:
        assert delivery.message is not None
        document = envelope.notification(delivery.message, subscription)
        data = delivery.message.body_for(subscription.protocol) if subscription.raw_message_delivery else envelope.envelope_text(document)
    content_type = effective_topic_policy(subscription.topic)["http"].get("defaultRequestPolicy", {}).get("headerContentType", "text/plain; charset=UTF-8")
    if subscription.delivery_policy:
        content_type = (json.loads(subscription.delivery_policy).get("requestPolicy") or {}).get("headerContentType", content_type)
    request = urllib.request.Request(subscription.endpoint, data=data.encode("utf-8"), method="POST",
                                     headers=envelope.http_headers(document, subscription, content_type=content_type))
    try:
        with urllib.request.urlopen(request, timeout=limits.HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310 - the subscriber's own URL
            response.read()
    except urllib.error.HTTPError as error:
        if error.code >= 500:
            raise DeliveryFailed(f"HTTP{error.code}", f"The endpoint answered {error.code}.", client=False) from None
        return  # 2xx-4xx: delivered, as SNS counts it
    except (OSError, ValueError) as error:
        raise DeliveryFailed("ConnectionError", f"The endpoint could not be reached: {error}", client=False) from None


# --- retries ---------------------------------------------------------------------------------------------------------

def _http_delay(subscription: Subscription, attempts: int) -> float | None:
    """Seconds before the next attempt after ``attempts`` attempts, by the healthy retry policy; ``None`` when spent."""
    policy = http_retry_policy(subscription)
    retries = int(policy.get("numRetries", limits.HTTP_RETRIES_DEFAULT))
    retry = attempts  # the retry about to be made (1-based)
    if retry > retries:
        return None
    low, high = float(policy.get("minDelayTarget", 20)), float(policy.get("maxDelayTarget", 20))
    no_delay, min_delay, max_delay = (int(policy.get(k, 0)) for k in ("numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries"))
    if retry <= no_delay:
        return 0.0
    if retry <= no_delay + min_delay:
        return low
    backoff = max(retries - no_delay - min_delay - max_delay, 0)
    step = retry - no_delay - min_delay
    if step > backoff:
        return high
    if policy.get("backoffFunction") == "exponential" and backoff:
        return min(high, low * ((high / low) ** (step / backoff)))
    return low + (high - low) * step / max(backoff, 1)


def _managed_delay(attempts: int) -> float | None:
    return limits.MANAGED_RETRY_DELAYS[attempts - 1] if attempts <= len(limits.MANAGED_RETRY_DELAYS) else None


def _dead_letter(delivery: Delivery, failure: DeliveryFailed) -> Outcome:
    """Hand the message to the subscription's dead-letter queue (in this transaction), or drop it."""
    policy = delivery.subscription.redrive_policy or {}
    if delivery.kind == DeliveryKind.NOTIFICATION and policy.get("deadLetterTargetArn") and delivery.message is not None:
        body, attributes = _sqs_body(delivery)
        extra = {"ErrorCode": {"DataType": "String", "StringValue": failure.code[:256] or "Error"},
                 "ErrorMessage": {"DataType": "String", "StringValue": failure.message[:1000] or "-"},
                 "RequestID": {"DataType": "String", "StringValue": str(uuid.uuid4())}}
        if len(attributes) + len(extra) <= 10:
            attributes = {**attributes, **extra}
        try:
            sqs_send(policy["deadLetterTargetArn"], body, attributes, group_id=delivery.message.group_id,
                     deduplication_id=delivery.message.deduplication_id if delivery.subscription.topic.fifo else "")
            return Outcome(DeliveryStatus.DEAD_LETTERED, f"{failure.code}: {failure.message}")
        except DeliveryFailed as dlq_failure:
            log.warning("SNS delivery %s: the dead-letter queue refused the message: %s", delivery.pk, dlq_failure.message)
    return Outcome(DeliveryStatus.FAILED, f"{failure.code}: {failure.message}")


def delivery_run(delivery_id: int) -> str | None:
    """One attempt at a delivery; the status it ended in, or ``None`` when it was not this call's to make."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    protocol = delivery.subscription.protocol
    internal = protocol in (Protocol.LAMBDA, Protocol.SQS)
    try:
        if not internal:
            _post(delivery)  # outside any transaction: the endpoint may take up to 15 s (and may call back into Kiln)
        with transaction.atomic():
            if internal:
                (_to_lambda if protocol == Protocol.LAMBDA else _to_sqs)(delivery)
            if not _finish(delivery, DeliveryStatus.DELIVERED):
                transaction.set_rollback(True)  # someone else finished it (a sweep after a stale claim): hand over nothing
                return None
            _next_in_group(delivery)
        return DeliveryStatus.DELIVERED
    except DeliveryFailed as failure:
        return _failed(delivery, failure, internal=internal)
    except Exception as error:  # noqa: BLE001 - a server-side failure is retried like any other
        log.exception("SNS delivery %s failed", delivery_id)
        return _failed(delivery, DeliveryFailed("InternalError", str(error), client=False), internal=internal)


def _failed(delivery: Delivery, failure: DeliveryFailed, *, internal: bool) -> str | None:
    delay = None if failure.client else (_managed_delay(delivery.attempts) if internal else _http_delay(delivery.subscription, delivery.attempts))
    with transaction.atomic():
        if delay is not None:
            if not Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.DELIVERING, attempts=delivery.attempts).update(
                    status=DeliveryStatus.PENDING, next_attempt_at=timezone.now() + datetime.timedelta(seconds=delay), last_error=f"{failure.code}: {failure.message}"[:2000]):
                return None
            dispatch_delivery(delivery.pk, countdown=delay or None)
            return DeliveryStatus.PENDING
        outcome = _dead_letter(delivery, failure)
        if not _finish(delivery, outcome.status, outcome.detail):
            transaction.set_rollback(True)
            return None
        _next_in_group(delivery)
    return outcome.status


def messages_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete messages older than ``MESSAGE_KEEP_SECONDS`` whose deliveries are all final (with them), and spent deduplication ids."""
    now = now or timezone.now()
    Deduplication.objects.filter(expires_at__lte=now).delete()
    old = Message.objects.filter(published_at__lt=now - datetime.timedelta(seconds=limits.MESSAGE_KEEP_SECONDS)).exclude(
        Exists(Delivery.objects.filter(message_id=OuterRef("pk"), status__in=OPEN_STATUSES)))
    deleted, _ = Message.objects.filter(pk__in=list(old.values_list("pk", flat=True)[:10_000])).delete()
    return deleted


def deliveries_sweep(*, now: datetime.datetime | None = None) -> int:
    """Send again what is due and unclaimed (a lost enqueue) and what was claimed too long ago (a lost worker)."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=limits.CLAIM_STALE_SECONDS)
    Delivery.objects.filter(status=DeliveryStatus.DELIVERING, claimed_at__lt=stale).update(status=DeliveryStatus.PENDING, next_attempt_at=now)
    due = list(Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - datetime.timedelta(seconds=5)).values_list("pk", flat=True)[:1000])
    for pk in due:
        dispatch_delivery(pk)
    return len(due)
