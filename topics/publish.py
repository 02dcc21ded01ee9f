"""Publish and PublishBatch: every check SNS makes, then one message and its deliveries written in one transaction.

A message fans out to the topic's confirmed subscriptions whose filter policy it passes; each gets a
``Delivery`` row, sent after commit (``topics.dispatch``). FIFO topics serialise publishes on the topic row, so
sequence numbers (the message row's id) follow publish order, and remember deduplication ids for five minutes
(given, or the SHA-256 of the body with ContentBasedDeduplication): a duplicate returns the first message's id
and is not delivered again.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from topics import limits
from topics.dispatch import dispatch_delivery
from topics.errors import TopicError, invalid, invalid_value
from topics.filters import filter_matches
from topics.models import Deduplication, Delivery, Message, Subscription, Topic

_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_GROUP_CHARS = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
_SUBJECT = re.compile(r"^[\x20-\x7e]+$")


@dataclass(frozen=True)
class Outgoing:
    """A validated message, ready to be written."""

    body: str
    subject: str
    per_protocol: dict[str, str] | None
    attributes: dict[str, dict[str, str]]
    group_id: str
    deduplication_id: str
    size: int


@dataclass(frozen=True)
class Published:
    message_id: str
    sequence_number: str


def attributes_normalize(attributes: Mapping[str, Mapping[str, Any]] | None) -> tuple[dict[str, dict[str, str]], int]:
    """Validated message attributes as stored (binary values base64) and their size as SNS counts it (name, type and value)."""
    stored: dict[str, dict[str, str]] = {}
    size = 0
    if attributes and len(attributes) > limits.MESSAGE_ATTRIBUTES_MAX:
        raise invalid_value(f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum [{limits.MESSAGE_ATTRIBUTES_MAX}].")
    for name, value in (attributes or {}).items():
        lowered = name.lower()
        if (not _ATTRIBUTE_NAME.match(name) or name.startswith(".") or name.endswith(".") or ".." in name
                or lowered.startswith("aws.") or lowered.startswith("amazon.")):
            raise invalid_value(f"The message attribute name '{name}' is invalid. It can contain only A-Z, a-z, 0-9, underscore (_), hyphen (-) and period (.), "
                                "must not start or end with a period or contain two in a row, and must not start with AWS. or Amazon.")
        data_type = str(value.get("DataType") or "")
        kind = data_type.split(".", 1)[0]
        if kind not in ("String", "Number", "Binary") or len(data_type) > 256:
            raise invalid_value(f"The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.")
        if kind == "Binary":
            if value.get("StringValue") is not None:
                raise invalid_value(f"The message attribute '{name}' with type 'Binary' must use field 'Binary'.")
            raw = value.get("BinaryValue")
            if raw is None or raw in (b"", ""):
                raise invalid_value(f"The message attribute '{name}' must contain non-empty message attribute value for message attribute type 'Binary'.")
            try:
                data = raw if isinstance(raw, bytes) else base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise invalid_value(f"The message attribute '{name}' has an invalid binary value.") from None
            stored[name] = {"DataType": data_type, "BinaryValue": base64.b64encode(data).decode()}
            size += len(data)
        else:
            if value.get("BinaryValue") is not None:
                raise invalid_value(f"The message attribute '{name}' with type '{kind}' must use field 'String'.")
            text = value.get("StringValue")
            if text is None or text == "":
                raise invalid_value(f"The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{kind}'.")
            if kind == "Number":
                try:
                    float(text)
                except ValueError:
                    raise invalid_value(f"Could not cast message attribute '{name}' value to number.") from None
            if data_type == "String.Array":
                try:
                    items = json.loads(text)
                except ValueError:
                    items = None
                if not isinstance(items, list) or any(isinstance(item, dict | list) for item in items):
                    raise invalid_value(f"The message attribute '{name}' with type 'String.Array' must be a JSON array of strings, numbers, booleans or nulls.")
            stored[name] = {"DataType": data_type, "StringValue": text}
            size += len(text.encode("utf-8"))
        size += len(name.encode("utf-8")) + len(data_type.encode("utf-8"))
    return stored, size


def _structure(message: str) -> dict[str, str]:
    try:
        parsed = json.loads(message)
    except ValueError:
        raise invalid("Message Structure - JSON message body failed to parse") from None
    if not isinstance(parsed, dict):
        raise invalid("Message Structure - JSON message body failed to parse")
    if "default" not in parsed:
        raise invalid("Message Structure - No default entry in JSON message body")
    if any(not isinstance(v, str) for v in parsed.values()):
        raise invalid("Message Structure - JSON message body values must be strings")
    return parsed


def message_max(topic: Topic) -> int:
    return int((topic.extra_attributes or {}).get("MaximumMessageSize") or limits.MESSAGE_SIZE_MAX)


def message_validate(*, topic: Topic, message: str | None, subject: str | None = None, structure: str | None = None,
                     attributes: Mapping[str, Any] | None = None, group_id: str | None = None, deduplication_id: str | None = None) -> Outgoing:
    """Every check of Publish, in SNS's words; nothing is written."""
    if message is None or message == "":
        raise invalid("Empty message")
    if subject is not None and (not subject or len(subject) > limits.SUBJECT_MAX or not _SUBJECT.match(subject)):
        raise invalid("Subject")
    per_protocol = None
    if structure:
        if structure != "json":
            raise invalid("MessageStructure")
        per_protocol = _structure(message)
    stored, attributes_size = attributes_normalize(attributes)
    size = len(message.encode("utf-8")) + attributes_size
    if size > message_max(topic):
        raise invalid("Message too long")
    if topic.fifo:
        if not group_id:
            raise invalid("The MessageGroupId parameter is required for FIFO topics")
        if not deduplication_id:
            if not topic.content_based_deduplication:
                raise invalid("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
            deduplication_id = hashlib.sha256(message.encode("utf-8")).hexdigest()
    elif deduplication_id:
        raise invalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
    for name, value in (("MessageGroupId", group_id), ("MessageDeduplicationId", deduplication_id)):
        if value and not _GROUP_CHARS.match(value):
            raise invalid(f"{name} Reason: {name} can contain up to 128 alphanumeric characters and punctuation")
    body = per_protocol["default"] if per_protocol else message
    return Outgoing(body=body, subject=subject or "", per_protocol=per_protocol, attributes=stored, group_id=group_id or "",
                    deduplication_id=deduplication_id or "", size=size)


def _receivers(topic: Topic, message: Message) -> list[Subscription]:
    chosen = []
    for subscription in Subscription.objects.filter(topic=topic, confirmed=True).order_by("id"):
        if filter_matches(subscription.filter_policy, subscription.filter_policy_scope, attributes=message.attributes,
                          body=message.body_for(subscription.protocol)):
            chosen.append(subscription)
    return chosen


def message_publish(*, topic: Topic, outgoing: Outgoing, parent_invocation_id: str = "") -> Published:
    """Write one validated message and a delivery per matching subscription; each is sent after commit.

    ``parent_invocation_id``: the invocation whose function published it, recorded as the parent of the invocations it causes."""
    now = timezone.now()
    with transaction.atomic():
        if topic.fifo:
            Topic.objects.select_for_update().filter(pk=topic.pk).first()
            Deduplication.objects.filter(topic=topic, expires_at__lte=now).delete()
            seen = Deduplication.objects.filter(topic=topic, deduplication_id=outgoing.deduplication_id).first()
            if seen is not None:
                return Published(seen.message_id, seen.sequence_number)
        message = Message.objects.create(topic=topic, subject=outgoing.subject, body=outgoing.body, per_protocol=outgoing.per_protocol,
                                         attributes=outgoing.attributes, group_id=outgoing.group_id, deduplication_id=outgoing.deduplication_id,
                                         published_at=now, parent_invocation_id=parent_invocation_id or "")
        if topic.fifo:
            Deduplication.objects.create(topic=topic, deduplication_id=outgoing.deduplication_id, message_id=str(message.message_id),
                                         sequence_number=message.sequence_number, expires_at=now + datetime.timedelta(seconds=limits.DEDUP_WINDOW_SECONDS))
        deliveries = Delivery.objects.bulk_create([Delivery(subscription=s, message=message, group_id=outgoing.group_id if topic.fifo else "", next_attempt_at=now)
                                                   for s in _receivers(topic, message)])
        for delivery in deliveries:
            dispatch_delivery(delivery.pk)
    return Published(str(message.message_id), message.sequence_number if topic.fifo else "")


def batch_check(ids: list[str]) -> None:
    """PublishBatch's checks of its entry ids."""
    if not ids:
        raise TopicError("The batch request doesn't contain any entries.", code="EmptyBatchRequest")
    if len(ids) > limits.BATCH_ENTRIES_MAX:
        raise TopicError("The batch request contains more entries than permissible.", code="TooManyEntriesInBatchRequest")
    if len(set(ids)) != len(ids):
        raise TopicError("Two or more batch entries in the request have the same Id.", code="BatchEntryIdsNotDistinct")
    for entry_id in ids:
        if not _BATCH_ID.match(entry_id):
            raise TopicError("The Id of a batch entry in a batch request doesn't abide by the specification.", code="InvalidBatchEntryId")


def batch_size_check(total: int, topic: Topic) -> None:
    if total > max(limits.BATCH_SIZE_TOTAL_MAX, message_max(topic)):
        raise TopicError("The length of all the messages put together is more than the limit.", code="BatchRequestTooLong")
