"""Queues: create, change, purge, tag and delete them (messages are in ``queues.messages``)."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from queues import limits
from queues.attributes import queue_attributes, queue_fields
from queues.errors import QueueError, invalid
from queues.models import Message, Queue
from queues.selectors import QUEUES, queue_by_arn

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_TAG_KEY_MAX, _TAG_VALUE_MAX = 128, 256


def _name_check(name: str, attributes: dict[str, str]) -> bool:
    fifo = name.endswith(".fifo")
    base = name[:-5] if fifo else name
    if len(name) > limits.QUEUE_NAME_MAX or not _NAME.match(base) or (fifo and str(attributes.get("FifoQueue", "")).lower() != "true"):
        raise invalid("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
    if str(attributes.get("FifoQueue", "")).lower() == "true" and not fifo:
        raise invalid("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
    return fifo


def _tags_check(tags: dict[str, str], existing: int = 0) -> None:
    if len(tags) + existing > limits.TAGS_MAX:
        raise invalid(f"Too many tags added for queue. A queue may carry at most {limits.TAGS_MAX} tags.")
    for key, value in tags.items():
        if not 1 <= len(key) <= _TAG_KEY_MAX or len(value) > _TAG_VALUE_MAX:
            raise invalid(f"Tag key must be 1 to {_TAG_KEY_MAX} characters and its value at most {_TAG_VALUE_MAX}.")


def _same(existing: Queue, attributes: dict[str, str]) -> str | None:
    """The first attribute whose value differs from ``existing``'s, or ``None``."""
    current = queue_attributes(existing, ["All"], {"visible": 0, "not_visible": 0, "delayed": 0})
    defaults = {"FifoQueue": "false", "ContentBasedDeduplication": "false"}
    for name, value in attributes.items():
        have = current.get(name, defaults.get(name, ""))
        if name == "RedrivePolicy":
            try:
                given = json.loads(value) if value else None
                given = {"deadLetterTargetArn": given["deadLetterTargetArn"], "maxReceiveCount": int(given["maxReceiveCount"])} if given else None
            except (ValueError, KeyError, TypeError):
                return name
            if given != existing.redrive_policy:
                return name
            continue
        if str(value).lower() != have.lower():
            return name
    return None


def queue_create(*, name: str, attributes: dict[str, str] | None = None, tags: dict[str, str] | None = None) -> Queue:
    """A new queue, or the existing one of that name when the given attributes match it (``QueueNameExists`` otherwise)."""
    attributes = {k: str(v) for k, v in (attributes or {}).items()}
    fifo = _name_check(name, attributes)
    fields = queue_fields(attributes, fifo=fifo, creating=True, resolve_arn=queue_by_arn)
    _tags_check(tags or {})
    existing = Queue.objects.filter(name=name).first()
    if existing is None:
        try:
            with transaction.atomic():
                return Queue.objects.create(name=name, fifo=fifo, tags=dict(tags or {}), **fields)
        except IntegrityError:
            existing = Queue.objects.get(name=name)
    differs = _same(existing, attributes)
    if differs:
        raise QueueError(f"A queue already exists with the same name and a different value for attribute {differs}", code="QueueNameExists")
    return existing


def queue_set_attributes(*, queue: Queue, attributes: dict[str, str]) -> Queue:
    fields = queue_fields({k: str(v) for k, v in attributes.items()}, fifo=queue.fifo, creating=False, resolve_arn=queue_by_arn)
    extra = fields.pop("extra_attributes", None)
    for field, value in fields.items():
        setattr(queue, field, value)
    if extra:
        queue.extra_attributes = {**queue.extra_attributes, **extra}
    queue.save()
    return queue


def queue_delete(*, queue: Queue) -> None:
    """The queue and its messages; a receiver waiting on it wakes empty-handed at its deadline."""
    queue.delete()


def queue_purge(*, queue: Queue) -> int:
    """Delete every message sent before now; once per ``PURGE_INTERVAL_SECONDS`` (``PurgeQueueInProgress``)."""
    now = timezone.now()
    claimed = Queue.objects.filter(pk=queue.pk).exclude(purged_at__gt=now - datetime.timedelta(seconds=limits.PURGE_INTERVAL_SECONDS)).update(purged_at=now)
    if not claimed:
        raise QueueError(f"Only one PurgeQueue operation on {queue.name} is allowed every {limits.PURGE_INTERVAL_SECONDS} seconds.", code="PurgeQueueInProgress")
    _changed()
    deleted, _ = Message.objects.filter(queue=queue, sent_at__lte=now).delete()
    return deleted


def _changed() -> None:
    """A queue row changed by ``update()`` (no signal): every process's cached queues are reloaded."""
    QUEUES.bump_now()
    QUEUES.bump()


def queue_tag(*, queue: Queue, tags: dict[str, str]) -> None:
    merged = {**queue.tags, **tags}
    _tags_check(merged)
    Queue.objects.filter(pk=queue.pk).update(tags=merged)
    _changed()
    queue.tags = merged


def queue_untag(*, queue: Queue, keys: list[str]) -> None:
    remaining = {k: v for k, v in queue.tags.items() if k not in set(keys)}
    Queue.objects.filter(pk=queue.pk).update(tags=remaining)
    _changed()
    queue.tags = remaining


def queue_tags(queue: Queue) -> dict[str, Any]:
    return dict(queue.tags)
