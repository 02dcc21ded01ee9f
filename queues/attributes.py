"""Queue attributes: validating the ones a caller sets and rendering the ones a caller asks for.

Values travel as strings, as on the wire. ``queue_fields`` turns a caller's attributes into model field
values (refusing unknown names with ``InvalidAttributeName`` and bad values with ``InvalidAttributeValue``);
``queue_attributes`` renders a queue's attributes, counts included.
"""

from __future__ import annotations

import json
from typing import Any

from queues import limits
from queues.errors import QueueError
from queues.models import Queue

_INTEGERS = {"VisibilityTimeout": ("visibility_timeout", 0, limits.VISIBILITY_TIMEOUT_MAX),
             "MessageRetentionPeriod": ("message_retention_period", limits.RETENTION_MIN, limits.RETENTION_MAX),
             "MaximumMessageSize": ("maximum_message_size", limits.MESSAGE_SIZE_MIN, limits.MESSAGE_SIZE_MAX),
             "DelaySeconds": ("delay_seconds", 0, limits.DELAY_MAX),
             "ReceiveMessageWaitTimeSeconds": ("receive_wait_time_seconds", 0, limits.WAIT_TIME_MAX)}
_STORED = {"Policy", "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled"}
_FIFO_ONLY = {"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}
_FIFO_CHOICES = {"DeduplicationScope": ("messageGroup", "queue"), "FifoThroughputLimit": ("perQueue", "perMessageGroupId")}
READABLE = (["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp",
             "LastModifiedTimestamp", "QueueArn", "RedrivePolicy", "FifoQueue"] + list(_INTEGERS) + sorted(_STORED) + sorted(_FIFO_ONLY))


def _bad_value(name: str, reason: str = "") -> QueueError:
    return QueueError(f"Invalid value for the parameter {name}." + (f" Reason: {reason}" if reason else ""), code="InvalidAttributeValue")


def _boolean(name: str, value: str) -> bool:
    if str(value).lower() not in ("true", "false"):
        raise _bad_value(name)
    return str(value).lower() == "true"


def redrive_policy_parse(value: str, *, fifo: bool, resolve_arn: Any) -> dict[str, Any] | None:
    """``{"deadLetterTargetArn", "maxReceiveCount"}``; the target must exist and be of the same kind (FIFO or not)."""
    if value == "":
        return None
    try:
        policy = json.loads(value)
        target, count = policy["deadLetterTargetArn"], int(policy["maxReceiveCount"])
    except (ValueError, KeyError, TypeError):
        raise _bad_value("RedrivePolicy", "Redrive policy is not a valid JSON map with deadLetterTargetArn and maxReceiveCount.") from None
    if not 1 <= count <= limits.MAX_RECEIVE_COUNT_MAX:
        raise _bad_value("RedrivePolicy", f"Value {count} for parameter maxReceiveCount is invalid. Reason: Must be between 1 and {limits.MAX_RECEIVE_COUNT_MAX}.")
    dlq = resolve_arn(target)
    if dlq is None:
        raise _bad_value("RedrivePolicy", f"Dead letter target does not exist: {target}")
    if dlq.fifo != fifo:
        raise _bad_value("RedrivePolicy", "Dead-letter queue must be the same type of queue as the source queue (FIFO or standard).")
    return {"deadLetterTargetArn": target, "maxReceiveCount": count}


def queue_fields(attributes: dict[str, str], *, fifo: bool, creating: bool, resolve_arn: Any) -> dict[str, Any]:
    """Model field values for ``attributes`` (``FifoQueue`` only when ``creating``)."""
    fields: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for name, raw in attributes.items():
        value = str(raw)
        if name in _INTEGERS:
            field, low, high = _INTEGERS[name]
            try:
                number = int(value)
            except ValueError:
                raise _bad_value(name) from None
            if not low <= number <= high:
                raise _bad_value(name, f"Must be between {low} and {high}, if provided.")
            fields[field] = number
        elif name == "RedrivePolicy":
            fields["redrive_policy"] = redrive_policy_parse(value, fifo=fifo, resolve_arn=resolve_arn)
        elif name == "FifoQueue" and creating:
            if _boolean(name, value) != fifo:
                raise _bad_value(name, "The FifoQueue attribute must be true exactly when the queue name ends in .fifo.")
        elif name in _FIFO_ONLY:
            if not fifo:
                raise QueueError(f"Unknown Attribute {name}.", code="InvalidAttributeName")
            if name == "ContentBasedDeduplication":
                fields["content_based_deduplication"] = _boolean(name, value)
            elif value not in _FIFO_CHOICES[name]:
                raise _bad_value(name)
            else:
                extra[name] = value
        elif name in _STORED:
            extra[name] = value
        else:
            raise QueueError(f"Unknown Attribute {name}.", code="InvalidAttributeName")
    if extra:
        fields["extra_attributes"] = extra
    return fields


def queue_attributes(queue: Queue, names: list[str], counts: dict[str, int]) -> dict[str, str]:
    """The named attributes (``All`` for every one) of ``queue``; ``counts`` are the three approximate counts."""
    wanted = set(READABLE) if "All" in names else set(names)
    unknown = wanted - set(READABLE)
    if unknown:
        raise QueueError(f"Unknown Attribute {sorted(unknown)[0]}.", code="InvalidAttributeName")
    values: dict[str, str] = {
        "ApproximateNumberOfMessages": str(counts["visible"]), "ApproximateNumberOfMessagesNotVisible": str(counts["not_visible"]),
        "ApproximateNumberOfMessagesDelayed": str(counts["delayed"]), "CreatedTimestamp": str(int(queue.created_at.timestamp())),
        "LastModifiedTimestamp": str(int(queue.updated_at.timestamp())), "QueueArn": queue.arn,
        "SqsManagedSseEnabled": "true", **{name: str(getattr(queue, field)) for name, (field, _, _) in _INTEGERS.items()}}
    if queue.redrive_policy:
        policy = queue.redrive_policy  # in AWS's key order (jsonb does not keep it)
        values["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": policy["deadLetterTargetArn"], "maxReceiveCount": policy["maxReceiveCount"]}, separators=(",", ":"))
    if queue.fifo:
        values.update(FifoQueue="true", ContentBasedDeduplication=str(queue.content_based_deduplication).lower(),
                      DeduplicationScope="queue", FifoThroughputLimit="perQueue")
    values.update(queue.extra_attributes)
    return {name: value for name, value in values.items() if name in wanted}
