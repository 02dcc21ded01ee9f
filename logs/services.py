"""Writes of CloudWatch Logs: groups (retention, tags), streams, PutLogEvents and subscription filters.

A function's group ``/aws/lambda/<name>`` exists while the function does, row or not (``models``); a write
that needs its row (a retention, a tag, a stream, a filter) makes it (``group_for_write``). Every write is
one transaction: a refused request leaves nothing behind.
"""

from __future__ import annotations

import datetime
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import KilnError
from functions.models import Function
from functions.versions import function_policy, name_split
from iam.evaluation import policy_evaluate
from invoker.submit import invocation_logs_purge
from logs import delivery, limits
from logs.errors import LogsError, exists, invalid, limit, no_group, no_stream
from logs.models import LAMBDA_PREFIX, LogEvent, LogGroup, LogStream, SubscriptionFilter, group_arn
from logs.patterns import PatternError, compile_pattern

_GROUP_NAME = re.compile(r"^[\.\-_/#A-Za-z0-9]+$")
_STREAM_NAME = re.compile(r"^[^:*]+$")
_LAMBDA_ARN = re.compile(r"^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$")
GROUP_CLASSES = ("STANDARD", "INFREQUENT_ACCESS")
DISTRIBUTIONS = ("Random", "ByLogStream")
PERMISSION_MESSAGE = "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function."


def _constraint(value: Any, member: str, constraint: str) -> LogsError:
    return invalid(f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}")


def group_name_check(name: str, member: str = "logGroupName") -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= limits.GROUP_NAME_MAX:
        raise _constraint(name, member, f"Member must have length less than or equal to {limits.GROUP_NAME_MAX}")
    if not _GROUP_NAME.match(name):
        raise _constraint(name, member, "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")


def stream_name_check(name: str) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= limits.STREAM_NAME_MAX:
        raise _constraint(name, "logStreamName", f"Member must have length less than or equal to {limits.STREAM_NAME_MAX}")
    if not _STREAM_NAME.match(name):
        raise _constraint(name, "logStreamName", "Member must satisfy regular expression pattern: [^:*]*")


def function_of_group(name: str) -> str | None:
    """The function named by ``/aws/lambda/<function>``, when it exists."""
    if not name.startswith(LAMBDA_PREFIX) or len(name) == len(LAMBDA_PREFIX):
        return None
    function = name[len(LAMBDA_PREFIX):]
    return function if Function.objects.filter(name=function).exists() else None


def group_for_write(name: str, *, lock: bool = False) -> LogGroup:
    """The group's row, made now for an existing function's group that has none; ``ResourceNotFoundException`` else."""
    query = LogGroup.objects.select_for_update() if lock else LogGroup.objects
    group = query.filter(name=name).first()
    if group is not None:
        return group
    if function_of_group(name) is None:
        raise no_group()
    try:
        with transaction.atomic():
            LogGroup.objects.create(name=name)
    except IntegrityError:
        pass
    return query.get(name=name)


def _tags_check(tags: dict[str, str], existing: int = 0) -> None:
    if len(tags) + existing > limits.TAGS_MAX:
        raise LogsError(f"A log group can have at most {limits.TAGS_MAX} tags.", code="TooManyTagsException")
    for key, value in tags.items():
        if not 1 <= len(key) <= limits.TAG_KEY_MAX or key.lower().startswith("aws:"):
            raise invalid(f"Tag key {key!r} must be 1 to {limits.TAG_KEY_MAX} characters and not start with aws:.")
        if len(value) > limits.TAG_VALUE_MAX:
            raise invalid(f"The value of tag {key!r} must be at most {limits.TAG_VALUE_MAX} characters.")


# -- groups -----------------------------------------------------------------------------------------------------------
def log_group_create(*, name: str, kms_key_id: str = "", tags: dict[str, str] | None = None, log_group_class: str | None = None) -> LogGroup:
    group_name_check(name)
    if log_group_class is not None and log_group_class not in GROUP_CLASSES:
        raise _constraint(log_group_class, "logGroupClass", f"Member must satisfy enum value set: [{', '.join(GROUP_CLASSES)}]")
    _tags_check(tags or {})
    if function_of_group(name) is not None:
        raise exists("log group")
    try:
        with transaction.atomic():
            return LogGroup.objects.create(name=name, kms_key_id=kms_key_id or "", tags=dict(tags or {}), log_group_class=log_group_class or "STANDARD")
    except IntegrityError:
        raise exists("log group") from None


def log_group_delete(*, name: str) -> None:
    """Delete the group with its streams, events and filters; a function's group also loses its invocation log text."""
    with transaction.atomic():
        deleted, _ = LogGroup.objects.filter(name=name).delete()
        function = function_of_group(name)
        if function is not None:
            invocation_logs_purge(function_name=function)
        elif not deleted:
            raise no_group()


def retention_put(*, name: str, days: Any) -> LogGroup:
    if isinstance(days, bool) or days not in limits.RETENTION_DAYS:
        raise _constraint(days, "retentionInDays", f"Member must satisfy enum value set: [{', '.join(map(str, limits.RETENTION_DAYS))}]")
    with transaction.atomic():
        group = group_for_write(name, lock=True)
        group.retention_in_days = days
        group.save(update_fields=["retention_in_days"])
    return group


def retention_delete(*, name: str) -> LogGroup:
    with transaction.atomic():
        group = group_for_write(name, lock=True)
        group.retention_in_days = None
        group.save(update_fields=["retention_in_days"])
    return group


def group_tag(*, name: str, tags: dict[str, str]) -> LogGroup:
    with transaction.atomic():
        group = group_for_write(name, lock=True)
        _tags_check(tags, existing=len(set(group.tags) - set(tags)))
        group.tags = {**group.tags, **tags}
        group.save(update_fields=["tags"])
    return group


def group_untag(*, name: str, keys: list[str]) -> LogGroup:
    with transaction.atomic():
        group = group_for_write(name, lock=True)
        group.tags = {k: v for k, v in group.tags.items() if k not in set(keys)}
        group.save(update_fields=["tags"])
    return group


# -- streams ----------------------------------------------------------------------------------------------------------
def log_stream_create(*, group_name: str, name: str) -> LogStream:
    stream_name_check(name)
    with transaction.atomic():
        group = group_for_write(group_name)
        try:
            with transaction.atomic():
                return LogStream.objects.create(group=group, name=name, upload_sequence_token=_sequence_token())
        except IntegrityError:
            raise exists("log stream") from None


def log_stream_delete(*, group_name: str, name: str) -> None:
    group = LogGroup.objects.filter(name=group_name).first()
    if group is None:
        if function_of_group(group_name) is None:
            raise no_group()
        raise no_stream()
    deleted, _ = LogStream.objects.filter(group=group, name=name).delete()
    if not deleted:
        raise no_stream()


def _sequence_token() -> str:
    return str(secrets.randbelow(10**56)).zfill(56)


# -- events -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PutResult:
    next_sequence_token: str
    rejected: dict[str, int]  # tooNewLogEventStartIndex, tooOldLogEventEndIndex, expiredLogEventEndIndex


def _batch_check(events: list[dict[str, Any]]) -> None:
    if len(events) > limits.BATCH_EVENTS_MAX:
        raise _constraint("[...]", "logEvents", f"Member must have length less than or equal to {limits.BATCH_EVENTS_MAX}")
    if not events:
        raise _constraint("[]", "logEvents", "Member must have length greater than or equal to 1")
    total = 0
    for index, event in enumerate(events):
        message = event.get("message")
        if not isinstance(message, str) or not message:
            raise invalid(f"Log event {index} has no message: each event needs a message of at least 1 character.")
        if not isinstance(event.get("timestamp"), int) or isinstance(event.get("timestamp"), bool):
            raise invalid(f"Log event {index} has no timestamp: give milliseconds since Jan 1, 1970 00:00:00 UTC.")
        size = len(message.encode()) + limits.EVENT_OVERHEAD
        if size > limits.EVENT_BYTES_MAX:
            raise invalid(f"Log event too large: {size} bytes exceeds limit of {limits.EVENT_BYTES_MAX}")
        total += size
    if total > limits.BATCH_BYTES_MAX:
        raise invalid(f"Upload too large: {total} bytes exceeds limit of {limits.BATCH_BYTES_MAX}")
    stamps = [event["timestamp"] for event in events]
    if any(later < earlier for earlier, later in zip(stamps, stamps[1:], strict=False)):
        raise invalid("Log events in a single PutLogEvents request must be in chronological order.")


def log_events_put(*, group_name: str, stream_name: str, events: list[dict[str, Any]], now_ms: int | None = None,
                   caused_by: str | None = None) -> PutResult:
    """Append ``events`` (``{"timestamp": ms, "message": str}``, in chronological order) to the stream.

    Events more than 14 days old (or older than the group's retention) or more than 2 hours ahead are
    not stored and are named in the result, as AWS does; the batch's stored events must span at most
    24 hours. Matching events go to the group's subscription filters in the same transaction, as children
    of ``caused_by`` (the invocation whose function wrote them, if one did)."""
    _batch_check(events)
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    group = LogGroup.objects.filter(name=group_name).first()
    if group is None:
        raise no_stream() if function_of_group(group_name) is not None else no_group()
    rejected: dict[str, int] = {}
    too_old = now - limits.PAST_MAX_MS
    expired = now - group.retention_in_days * 86_400_000 if group.retention_in_days else None
    accepted: list[tuple[int, dict[str, Any]]] = []
    for index, event in enumerate(events):
        stamp = event["timestamp"]
        if stamp > now + limits.FUTURE_MAX_MS:
            rejected.setdefault("tooNewLogEventStartIndex", index)
        elif expired is not None and stamp < expired:
            rejected["expiredLogEventEndIndex"] = index
            if stamp < too_old:
                rejected["tooOldLogEventEndIndex"] = index
        elif stamp < too_old:
            rejected["tooOldLogEventEndIndex"] = index
        else:
            accepted.append((index, event))
    if accepted and accepted[-1][1]["timestamp"] - accepted[0][1]["timestamp"] > limits.BATCH_SPAN_MAX_MS:
        raise invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
    with transaction.atomic():
        stream = LogStream.objects.select_for_update().filter(group=group, name=stream_name).first()
        if stream is None:
            raise no_stream()
        rows = LogEvent.objects.bulk_create([LogEvent(stream=stream, group=group, timestamp=e["timestamp"], message=e["message"], ingestion_time=now)
                                             for _, e in accepted])
        if rows:
            if any(row.pk is None for row in rows):  # a backend that does not return ids: read them back, in order
                rows = list(LogEvent.objects.filter(stream=stream, ingestion_time=now).order_by("-id")[:len(rows)])[::-1]
            first, last = rows[0].timestamp, rows[-1].timestamp
            stream.first_event_timestamp = first if stream.first_event_timestamp is None else min(first, stream.first_event_timestamp)
            stream.last_event_timestamp = last if stream.last_event_timestamp is None else max(last, stream.last_event_timestamp)
            stream.last_ingestion_time = now
            stream.stored_bytes += sum(len(row.message.encode()) for row in rows)
        stream.upload_sequence_token = _sequence_token()
        stream.save()
        if rows:
            for subscription in SubscriptionFilter.objects.filter(group=group):
                delivery.deliver(subscription, group_name=group.name, stream_name=stream.name,
                                 events=[(row.event_id, row.timestamp, row.message) for row in rows], caused_by=caused_by)
    return PutResult(stream.upload_sequence_token, rejected)


# -- subscription filters ---------------------------------------------------------------------------------------------
def _destination_function(destination_arn: str) -> Function:
    if not isinstance(destination_arn, str) or not _LAMBDA_ARN.match(destination_arn):
        raise invalid("Kiln delivers subscription filters to Lambda functions only: give destinationArn as arn:aws:lambda:<region>:<account>:function:<name>.")
    try:
        name, _qualifier = name_split(destination_arn, None)
    except KilnError:  # another account's function
        raise invalid(PERMISSION_MESSAGE) from None
    function = Function.objects.filter(name=name).first()
    if function is None:
        raise invalid(PERMISSION_MESSAGE)
    return function


def _logs_may_invoke(function: Function, destination_arn: str, group_name: str) -> bool:
    """Whether the function's resource policy lets CloudWatch Logs (``logs.amazonaws.com``, or the older regional
    ``logs.<region>.amazonaws.com``) invoke it for this group, as AWS checks when the filter is put."""
    if not function.policy_statements:
        return False
    context = {"aws:SourceArn": group_arn(group_name) + ":*", "aws:SourceAccount": settings.KILN_ACCOUNT_ID}
    return any(policy_evaluate([function_policy(function)], action="lambda:InvokeFunction", resource=resource, context=context,
                               principal={"Service": ["logs.amazonaws.com", f"logs.{settings.KILN_REGION}.amazonaws.com"]}).allowed
               for resource in {destination_arn, function.arn})


def subscription_filter_put(*, group_name: str, filter_name: str, filter_pattern: str, destination_arn: str,
                            distribution: str | None = None, role_arn: str | None = None) -> SubscriptionFilter:
    """Create the filter, or replace the one of that name; at most ``SUBSCRIPTION_FILTERS_MAX`` per group.

    A filter whose destination is the function writing the group (``/aws/lambda/<fn>`` to ``fn``) would
    invoke itself with its own logs for ever: it is refused."""
    if not isinstance(filter_name, str) or not 1 <= len(filter_name) <= limits.FILTER_NAME_MAX or not _STREAM_NAME.match(filter_name):
        raise _constraint(filter_name, "filterName", "Member must satisfy regular expression pattern: [^:*]*")
    try:
        compile_pattern(filter_pattern)
    except PatternError as error:
        raise invalid(str(error)) from None
    if distribution is not None and distribution not in DISTRIBUTIONS:
        raise _constraint(distribution, "distribution", f"Member must satisfy enum value set: [{', '.join(DISTRIBUTIONS)}]")
    with transaction.atomic():
        group = group_for_write(group_name, lock=True)
        function = _destination_function(destination_arn)
        if group.function_name == function.name:
            raise invalid(f"The destination function {function.name} writes this log group (the destination function's own log group): "
                          "its deliveries would be logged here and delivered again for ever. Subscribe another function.")
        if not _logs_may_invoke(function, destination_arn, group_name):
            raise invalid(PERMISSION_MESSAGE)
        existing = SubscriptionFilter.objects.filter(group=group, filter_name=filter_name).first()
        if existing is None and SubscriptionFilter.objects.filter(group=group).count() >= limits.SUBSCRIPTION_FILTERS_MAX:
            raise limit("Resource limit exceeded.")
        fields = {"filter_pattern": filter_pattern or "", "destination_arn": destination_arn, "distribution": distribution or "ByLogStream",
                  "role_arn": role_arn or ""}
        if existing is not None:
            for key, value in fields.items():
                setattr(existing, key, value)
            existing.save()
            return existing
        return SubscriptionFilter.objects.create(group=group, filter_name=filter_name, scanned_until=timezone.now(), **fields)


def subscription_filter_delete(*, group_name: str, filter_name: str) -> None:
    group = LogGroup.objects.filter(name=group_name).first()
    if group is None and function_of_group(group_name) is None:
        raise no_group()
    if group is None or not SubscriptionFilter.objects.filter(group=group, filter_name=filter_name).delete()[0]:
        raise LogsError("The specified subscription filter does not exist.", code="ResourceNotFoundException")


# -- retention --------------------------------------------------------------------------------------------------------
def retention_apply(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete what each group's retention no longer keeps: its events, and for ``/aws/lambda/<fn>`` the
    log text of the function's invocations finished before the cut (the invocation rows stay history)."""
    now = now or timezone.now()
    removed = {"events": 0, "invocations": 0}
    for group in LogGroup.objects.filter(retention_in_days__isnull=False):
        cut = now - datetime.timedelta(days=group.retention_in_days or 0)
        removed["events"] += LogEvent.objects.filter(group=group, timestamp__lt=int(cut.timestamp() * 1000)).delete()[0]
        if group.function_name:
            removed["invocations"] += invocation_logs_purge(function_name=group.function_name, finished_before=cut)
    return removed
