"""Topics and subscriptions: create, change, tag, confirm and delete them (publishing is ``topics.publish``)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from topics import limits
from topics.attributes import filter_check, subscription_fields, topic_fields
from topics.errors import TopicError, invalid
from topics.models import Delivery, DeliveryKind, Protocol, Subscription, Topic

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LAMBDA_ARN = re.compile(r"^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$")
_SQS_ARN = re.compile(r"^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")
KNOWN_PROTOCOLS = {"email", "email-json", "sms", "application", "firehose"}  # SNS's, which Kiln does not deliver to


def _name_check(name: str, attributes: dict[str, str]) -> bool:
    fifo_wanted = str(attributes.get("FifoTopic", "false")).lower() == "true"
    fifo = name.endswith(".fifo")
    base = name[:-5] if fifo else name
    if len(name) > limits.TOPIC_NAME_MAX or not _NAME.match(base):
        raise invalid("Topic Name")
    if fifo != fifo_wanted:
        raise invalid("Fifo Topic names must end with .fifo and they must be created with the FifoTopic attribute set to true" if fifo_wanted
                      else "Topic Name")
    return fifo


def tags_check(tags: dict[str, str], *, existing: int = 0) -> None:
    if len(tags) + existing > limits.TAGS_MAX:
        raise TopicError("Could not complete request: tag quota of per resource exceeded", code="TagLimitExceeded")
    for key, value in tags.items():
        if not 1 <= len(key) <= limits.TAG_KEY_MAX:
            raise invalid(f"Tags Reason: Tag keys must be 1 to {limits.TAG_KEY_MAX} characters")
        if len(value) > limits.TAG_VALUE_MAX:
            raise invalid(f"Tags Reason: Tag values must be at most {limits.TAG_VALUE_MAX} characters")
        if key.lower().startswith("aws:"):
            raise invalid("Tags Reason: Tag keys may not start with aws:")


def topic_create(*, name: str, attributes: dict[str, str] | None = None, tags: dict[str, str] | None = None) -> Topic:
    """A new topic, or the existing one when the attributes (and tags) given match it."""
    attributes = {k: str(v) for k, v in (attributes or {}).items()}
    fifo = _name_check(name, attributes)
    fields = topic_fields(attributes, fifo=fifo, creating=True)
    tags_check(tags or {})
    existing = Topic.objects.filter(name=name).first()
    if existing is None:
        try:
            with transaction.atomic():
                return Topic.objects.create(name=name, fifo=fifo, tags=dict(tags or {}), **fields)
        except IntegrityError:
            existing = Topic.objects.get(name=name)
    for field, value in fields.items():
        have = getattr(existing, field)
        if field == "extra_attributes" and any(have.get(k) != v for k, v in value.items()) or field != "extra_attributes" and have != value:
            raise invalid("Attributes Reason: Topic already exists with different attributes")
    if tags and any(existing.tags.get(k) != v for k, v in tags.items()):
        raise invalid("Tags Reason: Topic already exists with different tags")
    return existing


def topic_set_attribute(*, topic: Topic, name: str, value: str) -> Topic:
    if name == "FifoTopic":
        raise invalid("AttributeName")
    fields = topic_fields({name: value or ""}, fifo=topic.fifo, creating=False)
    extra = fields.pop("extra_attributes", None)
    for field, new in fields.items():
        setattr(topic, field, new)
    if extra:
        topic.extra_attributes = {**topic.extra_attributes, **extra}
    topic.save()
    return topic


def topic_delete(*, topic: Topic) -> None:
    """The topic, its subscriptions and its undelivered messages."""
    topic.delete()


def topic_tag(*, topic: Topic, tags: dict[str, str]) -> None:
    merged = {**topic.tags, **tags}
    tags_check(merged)
    Topic.objects.filter(pk=topic.pk).update(tags=merged)
    topic.tags = merged


def topic_untag(*, topic: Topic, keys: list[str]) -> None:
    remaining = {k: v for k, v in topic.tags.items() if k not in set(keys)}
    Topic.objects.filter(pk=topic.pk).update(tags=remaining)
    topic.tags = remaining


# --- subscriptions ---------------------------------------------------------------------------------------------------

def _endpoint_check(topic: Topic, protocol: str, endpoint: str) -> None:
    if protocol in KNOWN_PROTOCOLS:
        raise invalid(f"Protocol Reason: Kiln does not deliver to {protocol} endpoints (lambda, sqs, http and https are supported)")
    if protocol not in Protocol.values:
        raise invalid(f"Amazon SNS does not support this protocol string: {protocol}")
    if not endpoint:
        raise invalid(f"Invalid {protocol} endpoint")
    if protocol == Protocol.LAMBDA and not _LAMBDA_ARN.match(endpoint):
        raise invalid("Lambda endpoint ARN")
    if protocol == Protocol.SQS:
        if not _SQS_ARN.match(endpoint):
            raise invalid("SQS endpoint ARN")
        if endpoint.endswith(".fifo") and not topic.fifo:
            raise invalid("Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")
    if protocol in (Protocol.HTTP, Protocol.HTTPS) and not endpoint.lower().startswith(f"{protocol}://"):
        raise invalid("Endpoint")
    if topic.fifo and protocol != Protocol.SQS:
        raise invalid(f"Invalid protocol type: {protocol}. FIFO topics deliver only to Amazon SQS queues")


def subscription_create(*, topic: Topic, protocol: str, endpoint: str, attributes: dict[str, str] | None = None, owner: str = "") -> Subscription:
    """Subscribe ``endpoint``; the same endpoint again returns the existing subscription (when its attributes agree).

    Lambda and SQS subscriptions are confirmed at once; http/https ones are pending until the endpoint confirms the
    ``SubscriptionConfirmation`` Kiln posts to it (sent after commit).
    """
    protocol = (protocol or "").lower()
    _endpoint_check(topic, protocol, endpoint)
    attributes = {k: str(v) for k, v in (attributes or {}).items()}
    fields = subscription_fields(attributes, protocol=protocol, fifo_topic=topic.fifo)
    filter_check(fields.get("filter_policy", ""), fields.get("filter_policy_scope", "MessageAttributes"))
    existing = Subscription.objects.select_related("topic").filter(topic=topic, protocol=protocol, endpoint=endpoint).first()
    if existing is not None:
        for field, value in fields.items():
            if getattr(existing, field) != value:
                raise invalid("Attributes Reason: Subscription already exists with different attributes")
        return existing
    confirmed = protocol in (Protocol.LAMBDA, Protocol.SQS)
    with transaction.atomic():
        subscription = Subscription.objects.create(topic=topic, protocol=protocol, endpoint=endpoint, owner=owner or settings.KILN_ACCOUNT_ID,
                                                   confirmed=confirmed, token="" if confirmed else secrets.token_hex(64), **fields)
        if not confirmed:
            confirmation_send(subscription)
    return subscription


def confirmation_send(subscription: Subscription) -> Delivery:
    """Queue the ``SubscriptionConfirmation`` POST to a pending http/https subscription."""
    from topics.dispatch import dispatch_delivery

    delivery = Delivery.objects.create(subscription=subscription, kind=DeliveryKind.CONFIRMATION, next_attempt_at=timezone.now())
    dispatch_delivery(delivery.pk)
    return delivery


def subscription_confirm(*, topic: Topic, token: str, authenticated: bool = False) -> Subscription:
    """Confirm the pending subscription whose token this is (a confirmed one's stays valid, as on AWS: it is returned)."""
    if not token:
        raise invalid("Token")
    subscription = Subscription.objects.select_related("topic").filter(topic=topic, token=token).first()
    if subscription is None:
        raise invalid("Token")
    Subscription.objects.filter(pk=subscription.pk, confirmed=False).update(confirmed=True)
    if authenticated and not subscription.extra_attributes.get("ConfirmationWasAuthenticated"):
        subscription.extra_attributes = {**subscription.extra_attributes, "ConfirmationWasAuthenticated": "true"}
        Subscription.objects.filter(pk=subscription.pk).update(extra_attributes=subscription.extra_attributes)
    subscription.confirmed = True
    return subscription


def subscription_set_attribute(*, subscription: Subscription, name: str, value: str) -> Subscription:
    fields = subscription_fields({name: value or ""}, protocol=subscription.protocol, fifo_topic=subscription.topic.fifo)
    policy = fields.get("filter_policy", subscription.filter_policy)
    filter_check(policy, fields.get("filter_policy_scope", subscription.filter_policy_scope))
    extra = fields.pop("extra_attributes", None)
    for field, new in fields.items():
        setattr(subscription, field, new)
    if extra:
        subscription.extra_attributes = {**subscription.extra_attributes, **extra}
    subscription.save()
    return subscription


def subscription_delete(*, subscription: Subscription) -> None:
    """Unsubscribe; its undelivered messages are dropped, and the topic counts it in SubscriptionsDeleted."""
    with transaction.atomic():
        Topic.objects.filter(pk=subscription.topic_id).update(subscriptions_deleted=F("subscriptions_deleted") + 1)
        subscription.delete()


def tags_of(topic: Topic) -> list[dict[str, Any]]:
    return [{"Key": k, "Value": v} for k, v in sorted(topic.tags.items())]


def topic_publish_event(*, topic_arn: str, message: str, subject: str | None = None) -> str:
    """Publish ``message`` to the topic (an EventBridge target's delivery, ``buses.targets``); its message id.

    A missing topic is ``NotFound`` (404); a message SNS refuses is ``InvalidParameter``. A FIFO topic gets the
    message group ``eventbridge`` and the body's SHA-256 as its deduplication id, unless content-based.
    """
    import hashlib

    from topics.publish import message_publish, message_validate
    from topics.selectors import topic_get

    topic = topic_get(topic_arn)
    dedup = hashlib.sha256(message.encode("utf-8")).hexdigest() if topic.fifo else None
    outgoing = message_validate(topic=topic, message=message, subject=subject, group_id="eventbridge" if topic.fifo else None, deduplication_id=dedup)
    return message_publish(topic=topic, outgoing=outgoing).message_id
