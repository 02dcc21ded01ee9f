"""Subscription deliveries: matching events of a group, sent to the filter's Lambda function as AWS sends them.

The event is ``{"awslogs": {"data": base64(gzip(json))}}`` with the ``DATA_MESSAGE`` document (owner,
logGroup, logStream, subscriptionFilters, logEvents ``{id, timestamp, message}``). Each delivery is an
asynchronous invocation (``Trigger.LOGS``, its filter and group in ``trigger_detail``) written in the
caller's transaction, so the events and their deliveries commit together.

Events a user writes are delivered by ``PutLogEvents`` itself; a function's invocation logs
(``/aws/lambda/<fn>``) are found by ``invocation_logs_deliver`` (beat, every few seconds), which reads the
invocations finished since each filter's checkpoint and moves the checkpoint in the same transaction
(the invoker publishes nothing when it finishes, and may not import this app). Invocation logs are
delivered one batch per invocation, each the child of the invocation that wrote them, so a loop through
two functions' groups is cut after ``CHAIN_DEPTH_MAX`` hops.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import json
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import KilnError
from functions.versions import qualified_resolve
from invoker.models import InvocationType, Trigger
from invoker.selectors import invocation_chain, log_events_finished
from invoker.submit import invocation_record_stopped, invocation_submit
from logs import limits
from logs.models import LAMBDA_PREFIX, SubscriptionFilter
from logs.patterns import PatternError, compile_pattern

log = logging.getLogger(__name__)
Event = tuple[str, int, str]  # (id, timestamp ms, message)


def awslogs_payload(*, group_name: str, stream_name: str, filter_name: str, events: list[Event]) -> bytes:
    """The Lambda event CloudWatch Logs sends a subscribed function."""
    document = {"messageType": "DATA_MESSAGE", "owner": settings.KILN_ACCOUNT_ID, "logGroup": group_name, "logStream": stream_name,
                "subscriptionFilters": [filter_name], "logEvents": [{"id": i, "timestamp": t, "message": m} for i, t, m in events]}
    data = base64.b64encode(gzip.compress(json.dumps(document, separators=(",", ":")).encode())).decode()
    return json.dumps({"awslogs": {"data": data}}).encode()


def _batches(events: list[Event]) -> list[list[Event]]:
    batches: list[list[Event]] = [[]]
    size = 0
    for event in events:
        event_size = len(event[2].encode()) + limits.EVENT_OVERHEAD
        if batches[-1] and (len(batches[-1]) >= limits.DELIVERY_EVENTS_MAX or size + event_size > limits.DELIVERY_BYTES_MAX):
            batches.append([])
            size = 0
        batches[-1].append(event)
        size += event_size
    return [batch for batch in batches if batch]


def deliver(subscription: SubscriptionFilter, *, group_name: str, stream_name: str, events: list[Event], caused_by: str | None = None) -> int:
    """Submit the events matching the filter's pattern to its function; the number of invocations written.

    ``caused_by`` is the invocation whose run wrote the events (its logs, or its ``PutLogEvents``): the
    delivery is its child and one deeper in its chain; past ``CHAIN_DEPTH_MAX`` it is recorded failed with
    ``RecursiveInvocationException`` instead of run, as bucket notifications stop loops (events/loops.py)."""
    try:
        matches = compile_pattern(subscription.filter_pattern)
    except PatternError:  # checked when the filter was put; a pattern that no longer parses delivers nothing
        return 0
    chosen = [event for event in events if matches(event[2])]
    if not chosen:
        return 0
    try:
        resolved = qualified_resolve(subscription.destination_arn)
    except KilnError as exc:
        log.warning("subscription filter %s of %s: destination %s: %s", subscription.filter_name, group_name, subscription.destination_arn, exc)
        return 0
    chain: dict[str, Any] = {}
    if caused_by:
        chain_id, depth = invocation_chain(invocation_id=caused_by)
        chain = {"chain_id": chain_id, "chain_depth": depth + 1}
    written = 0
    for batch in _batches(chosen):
        payload = awslogs_payload(group_name=group_name, stream_name=stream_name, filter_name=subscription.filter_name, events=batch)
        detail = {"log_group": group_name, "log_stream": stream_name, "filter_name": subscription.filter_name, "events": len(batch), **chain}
        if chain and chain["chain_depth"] > limits.CHAIN_DEPTH_MAX:
            error = {"errorType": "RecursiveInvocationException", "stackTrace": [],
                     "errorMessage": f"Kiln stopped invocation {chain['chain_depth']} of chain {chain['chain_id']}: function {resolved.function.name} is part "
                                     f"of a recursive loop through subscription filters (more than {limits.CHAIN_DEPTH_MAX} invocations in a chain)."}
            invocation_record_stopped(function=resolved.function, payload=payload, trigger=Trigger.LOGS, trigger_detail=detail, error=error, parent_id=caused_by)
        else:
            invocation_submit(function=resolved.function, revision=resolved.revision, payload=payload, invocation_type=InvocationType.EVENT,
                              trigger=Trigger.LOGS, trigger_detail=detail, qualifier=resolved.qualifier or "$LATEST", executed_version=resolved.version,
                              parent_id=caused_by)
        written += 1
    return written


def invocation_logs_deliver(*, now: datetime.datetime | None = None) -> int:
    """Deliver the invocation logs of functions whose ``/aws/lambda/<fn>`` group has subscription filters,
    from each filter's checkpoint on; the number of invocations written."""
    until = (now or timezone.now()) - datetime.timedelta(seconds=limits.SCAN_LAG_SECONDS)
    written = 0
    ids = list(SubscriptionFilter.objects.filter(group__name__startswith=LAMBDA_PREFIX).values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            subscription = SubscriptionFilter.objects.select_for_update(skip_locked=True).select_related("group").filter(pk=pk).first()
            if subscription is None or not subscription.group.function_name:
                continue
            after = (subscription.scanned_until, subscription.scanned_id) if subscription.scanned_until and subscription.scanned_id else None
            if after is None and subscription.scanned_until is not None:
                after = (subscription.scanned_until, "00000000-0000-0000-0000-000000000000")
            events, checkpoint = log_events_finished(function_name=subscription.group.function_name, after=after, until=until, limit=limits.SCAN_BATCH)
            if checkpoint is None:
                continue
            # One delivery per stream and invocation that wrote the lines, so each is that invocation's child.
            by_writer: dict[tuple[str, str], list[Event]] = {}
            for event in events:
                by_writer.setdefault((event.stream, event.position[1]), []).append((event.event_id, event.timestamp, event.message))
            for (stream, request_id), stream_events in by_writer.items():
                written += deliver(subscription, group_name=subscription.group.name, stream_name=stream, events=stream_events, caused_by=request_id)
            subscription.scanned_until, subscription.scanned_id = checkpoint
            subscription.save(update_fields=["scanned_until", "scanned_id"])
    return written


