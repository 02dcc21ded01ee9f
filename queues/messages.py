"""Messages: send, receive (claiming rows by conditional update), delete, change visibility, redrive.

A receive claims visible rows (``visible_at <= now``) in one transaction: on PostgreSQL with
``SELECT ... FOR UPDATE SKIP LOCKED``, so concurrent receivers take disjoint rows; elsewhere each row by a
conditional ``UPDATE ... WHERE receive_count = <seen>``. Each claim writes a new ``receipt_token``: as AWS
documents, only the latest receipt handle deletes the message (an older one succeeds without deleting).
A message already received ``maxReceiveCount`` times moves to the dead-letter queue instead of being
returned. FIFO receives serialise on the queue row and skip groups that have a message in flight.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import logging
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from core import events as bus
from queues import limits, wakeup
from queues.checksums import md5_of_attributes, md5_of_body
from queues.domain import MessagesAvailable
from queues.errors import QueueError, invalid
from queues.models import Deduplication, Message, Queue
from queues.selectors import queue_by_arn, retention_cutoff

_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_INVALID_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_SYSTEM_ATTRIBUTES = {"AWSTraceHeader"}
logger = logging.getLogger(__name__)


def _available(queue: Queue) -> None:
    """After commit: wake long-polling receivers and tell subscribers (event source mappings); never fails the write."""
    wakeup.wake(queue.pk)
    try:
        bus.publish(MessagesAvailable(queue_id=queue.pk, queue_arn=queue.arn))
    except Exception:  # noqa: BLE001 - the message is stored; pollers also find it on their next sweep
        logger.exception("announcing messages on %s failed", queue.name)


def system_attributes_of(message: Message, *, fifo: bool) -> dict[str, str]:
    """Every system attribute of a message, as ReceiveMessage and Lambda's SQS event name them."""
    values: dict[str, str] = {"ApproximateReceiveCount": str(message.receive_count), "SentTimestamp": str(int(message.sent_at.timestamp() * 1000)),
                              "SenderId": message.sender_id or "000000000000",
                              "ApproximateFirstReceiveTimestamp": str(int((message.first_received_at or message.sent_at).timestamp() * 1000))}
    if fifo:
        values.update(SequenceNumber=message.sequence_number, MessageGroupId=message.group_id, MessageDeduplicationId=message.deduplication_id)
    elif message.group_id:
        values["MessageGroupId"] = message.group_id
    for name, value in message.system_attributes.items():
        values[name] = value.get("StringValue", "")
    return values


@dataclass(frozen=True)
class Sent:
    message_id: str
    body_md5: str
    attributes_md5: str
    system_attributes_md5: str
    sequence_number: str


@dataclass(frozen=True)
class Received:
    message: Message
    receipt_handle: str


def _range(name: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise invalid(f"Value {value} for parameter {name} is invalid. Reason: Must be between {low} and {high}, if provided.")


def attributes_normalize(attributes: Mapping[str, Mapping[str, Any]] | None, *, system: bool = False) -> tuple[dict[str, dict[str, str]], int]:
    """Validated message attributes as stored (binary values base64) and their size in bytes (name + type + value)."""
    stored: dict[str, dict[str, str]] = {}
    size = 0
    for name, value in (attributes or {}).items():
        if system and name not in _SYSTEM_ATTRIBUTES:
            raise invalid(f"Message system attribute name '{name}' is invalid.")
        lowered = name.lower()
        if (not _ATTRIBUTE_NAME.match(name) or name.startswith(".") or name.endswith(".") or ".." in name
                or (not system and (lowered.startswith("aws.") or lowered.startswith("amazon.")))):
            raise invalid(f"Message (user) attribute name '{name}' is invalid. The attribute name can contain only A-Z, a-z, 0-9, underscore (_), hyphen (-) and period (.), "
                          "must not start or end with a period or contain two in a row, and must not start with AWS. or Amazon.")
        data_type = str(value.get("DataType") or "")
        kind = data_type.split(".", 1)[0]
        if kind not in ("String", "Number", "Binary") or len(data_type) > 256:
            raise invalid(f"The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.")
        if kind == "Binary":
            raw = value.get("BinaryValue")
            if raw is None or raw == b"":
                raise invalid(f"The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{kind}'.")
            data = raw if isinstance(raw, bytes) else base64.b64decode(raw)
            stored[name] = {"DataType": data_type, "BinaryValue": base64.b64encode(data).decode()}
            size += len(data)
        else:
            text = value.get("StringValue")
            if text is None or text == "":
                raise invalid(f"The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{kind}'.")
            if kind == "Number":
                try:
                    float(text)
                except ValueError:
                    raise invalid(f"Can't cast the value of message (user) attribute '{name}' to a number.") from None
            if _INVALID_CHARS.search(text):
                raise QueueError(f"Invalid character in the value of message attribute '{name}'.", code="InvalidMessageContents")
            stored[name] = {"DataType": data_type, "StringValue": text}
            size += len(text.encode("utf-8"))
        size += len(name.encode("utf-8")) + len(data_type.encode("utf-8"))
    if len(stored) > limits.MESSAGE_ATTRIBUTES_MAX and not system:
        raise invalid(f"Number of message attributes [{len(stored)}] exceeds the allowed maximum [{limits.MESSAGE_ATTRIBUTES_MAX}].")
    return stored, size


@dataclass(frozen=True)
class Outgoing:
    """A validated message, ready to be written."""

    body: str
    attributes: dict[str, dict[str, str]]
    system_attributes: dict[str, dict[str, str]]
    delay: int
    group_id: str
    deduplication_id: str
    size: int


def message_validate(*, queue: Queue, body: str | None, delay_seconds: int | None = None, attributes: Mapping[str, Any] | None = None,
                     system_attributes: Mapping[str, Any] | None = None, group_id: str | None = None, deduplication_id: str | None = None) -> Outgoing:
    """Every check of SendMessage, in AWS's words; nothing is written."""
    if body is None or body == "":
        raise QueueError("The request must contain the parameter MessageBody.", code="MissingParameter")
    bad = _INVALID_CHARS.search(body)
    if bad:
        raise QueueError(f"Invalid binary character '#x{ord(bad.group()):X}' was found in the message body, the set of allowed characters is "
                         "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF", code="InvalidMessageContents")
    stored, attributes_size = attributes_normalize(attributes)
    system, _ = attributes_normalize(system_attributes, system=True)
    size = len(body.encode("utf-8")) + attributes_size
    if size > queue.maximum_message_size:
        raise invalid(f"One or more parameters are invalid. Reason: Message must be shorter than {queue.maximum_message_size} bytes.")
    _range("DelaySeconds", delay_seconds, 0, limits.DELAY_MAX)
    if queue.fifo:
        if delay_seconds:
            raise invalid(f"Value {delay_seconds} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.")
        if not group_id:
            raise QueueError("The request must contain the parameter MessageGroupId.", code="MissingParameter")
        if not deduplication_id:
            if not queue.content_based_deduplication:
                raise invalid("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
            deduplication_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
    elif deduplication_id:
        raise invalid("Value for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.")
    for name, value, high in (("MessageGroupId", group_id, limits.GROUP_ID_MAX), ("MessageDeduplicationId", deduplication_id, limits.DEDUP_ID_MAX)):
        if value and (len(value) > high or any(not 33 <= ord(c) <= 126 for c in value)):
            raise invalid(f"Value {value} for parameter {name} is invalid. Reason: it must be 1 to {high} printable ASCII characters without spaces.")
    delay = queue.delay_seconds if delay_seconds is None else delay_seconds
    return Outgoing(body=body, attributes=stored, system_attributes=system, delay=delay, group_id=group_id or "",
                    deduplication_id=deduplication_id or "", size=size)


def message_send(*, queue: Queue, outgoing: Outgoing, sender_id: str = "") -> Sent:
    """Write one validated message (a FIFO duplicate within five minutes returns the first one's id instead).

    A standard queue's message is one ``INSERT`` (its own transaction, committed before this returns, or
    part of the caller's); a FIFO one also checks and records its deduplication id in the same transaction."""
    now = timezone.now()
    body_md5, attributes_md5, system_md5 = md5_of_body(outgoing.body), md5_of_attributes(outgoing.attributes), md5_of_attributes(outgoing.system_attributes)
    fields = {"queue": queue, "message_id": str(uuid.uuid4()), "body": outgoing.body, "body_md5": body_md5, "attributes": outgoing.attributes,
              "attributes_md5": attributes_md5, "system_attributes": outgoing.system_attributes, "system_attributes_md5": system_md5, "sender_id": sender_id,
              "sent_at": now, "visible_at": now + datetime.timedelta(seconds=outgoing.delay), "group_id": outgoing.group_id,
              "deduplication_id": outgoing.deduplication_id, "size": outgoing.size}
    if not queue.fifo:
        message = Message.objects.create(**fields)
        transaction.on_commit(lambda: _available(queue))
        return Sent(message.message_id, body_md5, attributes_md5, system_md5, "")
    with transaction.atomic():
        Deduplication.objects.filter(queue=queue, expires_at__lte=now).delete()
        seen = Deduplication.objects.select_for_update().filter(queue=queue, deduplication_id=outgoing.deduplication_id).first()
        if seen is not None:
            return Sent(seen.message_id, body_md5, attributes_md5, system_md5, seen.sequence_number)
        message = Message.objects.create(**fields)
        Deduplication.objects.create(queue=queue, deduplication_id=outgoing.deduplication_id, message_id=message.message_id,
                                     sequence_number=message.sequence_number, expires_at=now + datetime.timedelta(seconds=limits.DEDUP_WINDOW_SECONDS))
        transaction.on_commit(lambda: _available(queue))
    return Sent(message.message_id, body_md5, attributes_md5, system_md5, message.sequence_number)


def batch_check(ids: list[str]) -> None:
    """The checks every *Batch operation makes on its entry ids."""
    if not ids:
        raise QueueError("There should be at least one SendMessageBatchRequestEntry in the request.", code="EmptyBatchRequest")
    if len(ids) > limits.BATCH_ENTRIES_MAX:
        raise QueueError(f"Maximum number of entries per request are {limits.BATCH_ENTRIES_MAX}. You have sent {len(ids)}.", code="TooManyEntriesInBatchRequest")
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise QueueError(f"Id {duplicate} repeated.", code="BatchEntryIdsNotDistinct")
    for entry_id in ids:
        if not _BATCH_ID.match(entry_id):
            raise QueueError(f"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long. ({entry_id})",
                             code="InvalidBatchEntryId")


def batch_size_check(total: int) -> None:
    if total > limits.BATCH_SIZE_TOTAL_MAX:
        raise QueueError(f"Batch requests cannot be longer than {limits.BATCH_SIZE_TOTAL_MAX} bytes. You have sent {total} bytes.", code="BatchRequestTooLong")


# --- receipt handles -------------------------------------------------------------------------------------------------

def _handle(message: Message, token: str) -> str:
    return base64.urlsafe_b64encode(f"kiln:{message.queue_id}:{message.pk}:{token}:{message.message_id}".encode()).decode()


def handle_parse(handle: str, queue: Queue) -> tuple[int, str]:
    """``(message pk, token)`` of a receipt handle of ``queue``; anything else is ``ReceiptHandleIsInvalid``."""
    try:
        tag, queue_id, pk, token, _ = base64.urlsafe_b64decode(handle.encode()).decode().split(":")
        if tag != "kiln" or int(queue_id) != queue.pk:
            raise ValueError
        return int(pk), token
    except (ValueError, binascii.Error, UnicodeError):
        raise QueueError(f'The input receipt handle "{handle}" is not a valid receipt handle.', code="ReceiptHandleIsInvalid") from None


# --- receiving -------------------------------------------------------------------------------------------------------

def _expire(queue: Queue, now: datetime.datetime) -> None:
    Message.objects.filter(queue=queue, sent_at__lt=retention_cutoff(queue, now)).delete()


def _redrive(queue: Queue, rows: list[Message], now: datetime.datetime) -> list[Message]:
    """Move the rows received ``maxReceiveCount`` times to the dead-letter queue; the rest, to deliver."""
    policy = queue.redrive_policy or {}
    limit = int(policy.get("maxReceiveCount") or 0)
    if not limit:
        return rows
    spent = [row for row in rows if row.receive_count >= limit]
    dlq = queue_by_arn(policy.get("deadLetterTargetArn", "")) if spent else None
    if dlq is None:
        return rows
    for row in spent:
        row.system_attributes = {**row.system_attributes, "DeadLetterQueueSourceArn": {"DataType": "String", "StringValue": queue.arn}}
        Message.objects.filter(pk=row.pk).update(queue=dlq, visible_at=now, receive_count=0, first_received_at=None, receipt_token="",
                                                 system_attributes=row.system_attributes)
    transaction.on_commit(lambda: _available(dlq))
    return [row for row in rows if row.receive_count < limit]


def _claim(queue: Queue, count: int, visibility: int, token_prefix: str = "") -> list[Received]:
    now = timezone.now()
    _expire(queue, now)
    skip_locked = connection.features.has_select_for_update_skip_locked
    with transaction.atomic():
        rows_qs = Message.objects.filter(queue_id=queue.pk, visible_at__lte=now)
        if queue.fifo:
            Queue.objects.select_for_update().filter(pk=queue.pk).first()
            busy = Message.objects.filter(queue_id=queue.pk, visible_at__gt=now, receive_count__gt=0).values("group_id")
            rows_qs = rows_qs.exclude(group_id__in=busy)
        elif skip_locked:
            rows_qs = rows_qs.select_for_update(skip_locked=True)
        rows = _redrive(queue, list(rows_qs.order_by("id")[:count]), now)
        until = now + datetime.timedelta(seconds=visibility)
        claimed: list[Received] = []
        for row in rows:
            token = token_prefix + secrets.token_hex(8)
            if skip_locked or queue.fifo:
                won = True
            else:
                won = Message.objects.filter(pk=row.pk, receive_count=row.receive_count, visible_at__lte=now).update(
                    receive_count=row.receive_count + 1, visible_at=until, receipt_token=token, first_received_at=row.first_received_at or now) == 1
            if won:
                row.receive_count += 1
                row.visible_at, row.receipt_token, row.first_received_at = until, token, row.first_received_at or now
                claimed.append(Received(row, _handle(row, token)))
        if claimed and (skip_locked or queue.fifo):
            Message.objects.bulk_update([r.message for r in claimed], ["receive_count", "visible_at", "receipt_token", "first_received_at"])
    return claimed


def _next_visible(queue: Queue) -> datetime.datetime | None:
    return Message.objects.filter(queue_id=queue.pk, visible_at__gt=timezone.now()).aggregate(at=Min("visible_at"))["at"]


TOKEN_PREFIX_MAX = 12  # receipt_token is 32 characters; 16 are random


def message_receive(*, queue: Queue, max_messages: int | None = None, visibility_timeout: int | None = None, wait_seconds: int | None = None,
                    token_prefix: str = "") -> list[Received]:
    """Up to ``max_messages`` messages, waiting up to ``wait_seconds`` (the queue's ``ReceiveMessageWaitTimeSeconds`` by default) for the first.

    ``token_prefix`` (Kiln's own consumers, never the API) starts every receipt token of this receive, so that what a
    consumer received can be found again if it dies before it knows the handles (``messages_release_received``)."""
    if len(token_prefix) > TOKEN_PREFIX_MAX:
        raise ValueError(f"token_prefix is at most {TOKEN_PREFIX_MAX} characters")
    _range("MaxNumberOfMessages", max_messages, 1, limits.RECEIVE_MAX)
    _range("VisibilityTimeout", visibility_timeout, 0, limits.VISIBILITY_TIMEOUT_MAX)
    _range("WaitTimeSeconds", wait_seconds, 0, limits.WAIT_TIME_MAX)
    count = max_messages or 1
    visibility = queue.visibility_timeout if visibility_timeout is None else visibility_timeout
    wait = queue.receive_wait_time_seconds if wait_seconds is None else wait_seconds
    claimed = _claim(queue, count, visibility, token_prefix)
    if claimed or wait <= 0:
        return claimed
    deadline = time.monotonic() + wait
    with wakeup.Waiter(queue.pk) as waiter:
        while True:
            claimed = _claim(queue, count, visibility, token_prefix)  # re-checked after subscribing: a send in between is seen
            left = deadline - time.monotonic()
            if claimed or left <= 0:
                return claimed
            due = _next_visible(queue)
            if due is not None:
                left = min(left, max((due - timezone.now()).total_seconds(), 0.01))
            waiter.wait(left)


def messages_release_received(*, queue: Queue, token_prefix: str) -> int:
    """Make the messages received with ``token_prefix`` and still in flight visible again now (their consumer died
    before it could process or even name them); how many. Their receipt handles stop working, as after a re-receive."""
    if not token_prefix:
        raise ValueError("token_prefix is required")
    now = timezone.now()
    released = Message.objects.filter(queue_id=queue.pk, receipt_token__startswith=token_prefix, visible_at__gt=now).update(visible_at=now, receipt_token="")
    if released:
        transaction.on_commit(lambda: _available(queue))
    return released


def message_delete(*, queue: Queue, receipt_handle: str) -> None:
    """Delete the message if ``receipt_handle`` is its latest; an older handle succeeds and deletes nothing (as AWS documents)."""
    pk, token = handle_parse(receipt_handle, queue)
    _delete_matching(queue, [(pk, token)])


def _delete_matching(queue: Queue, pairs: list[tuple[int, str]]) -> int:
    """One ``DELETE`` of the messages of ``queue`` whose ``(id, receipt_token)`` is among ``pairs`` (no ORM collector,
    no transaction of its own: the statement is atomic); the number deleted."""
    if not pairs:
        return 0
    table = connection.ops.quote_name(Message._meta.db_table)
    rows = ", ".join(["(%s, %s)"] * len(pairs))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE queue_id = %s AND (id, receipt_token) IN (VALUES {rows})",
                       [queue.pk, *(value for pair in pairs for value in pair)])
        return cursor.rowcount


def message_delete_batch(*, queue: Queue, handles: dict[str, str]) -> dict[str, QueueError]:
    """Delete by ``{entry id: receipt handle}`` in one statement, the handles matched in SQL; the entries whose
    handle is not a receipt handle of this queue, with their ``ReceiptHandleIsInvalid`` error (an older handle of a
    message received again succeeds and deletes nothing, as for DeleteMessage)."""
    failed: dict[str, QueueError] = {}
    pairs: list[tuple[int, str]] = []
    for entry_id, handle in handles.items():
        try:
            pairs.append(handle_parse(handle, queue))
        except QueueError as error:
            failed[entry_id] = error
    _delete_matching(queue, pairs)
    return failed


def message_change_visibility(*, queue: Queue, receipt_handle: str, timeout: int) -> None:
    """Make the in-flight message visible ``timeout`` seconds from now."""
    _range("VisibilityTimeout", timeout, 0, limits.VISIBILITY_TIMEOUT_MAX)
    pk, token = handle_parse(receipt_handle, queue)
    now = timezone.now()
    message = Message.objects.filter(pk=pk, queue=queue).first()
    if message is None or message.receipt_token != token:
        raise invalid(f"Value {receipt_handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.")
    if message.visible_at <= now:
        raise QueueError("Message does not exist or is not available for visibility timeout change.", code="MessageNotInflight")
    Message.objects.filter(pk=pk, receipt_token=token).update(visible_at=now + datetime.timedelta(seconds=timeout))
    if timeout == 0:
        transaction.on_commit(lambda: _available(queue))
