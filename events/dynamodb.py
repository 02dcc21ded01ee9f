"""DynamoDB Streams → Lambda: the ``dynamodb`` source kind of event source mappings, its poller, and Lambda's event.

A mapping reads one stream (its ARN names the table and the stream label) in ``ParallelizationFactor``
partitions: a record belongs to the partition of a hash of its keys, so one key's records reach the function
in order, and each partition has one checkpoint (``events.models.StreamCheckpoint``: the last sequence done)
and one poller at a time (a Redis lock in its worker's name, taken over when that worker is gone: events/locks.py), so two
batches of one partition never run at once.

No busy loop: ``tables.domain.StreamRecordsWritten`` (after commit) marks each partition *pending* and
enqueues one ``events.tasks.poll_dynamodb``; beat's sweep catches lost wake-ups. A poll reads the batch after
the checkpoint (records ``FilterCriteria`` drops are skipped; ``BatchSize``, 6 MB, waiting out ``MaximumBatchingWindowInSeconds`` by a delayed poll, not a
sleep), invokes the function synchronously with ``{"Records": [...]}`` and moves the checkpoint:
- success: past the batch;
- ``ReportBatchItemFailures``: to the lowest failed sequence number (the next batch starts at it);
- a function error: the same batch again after a back-off, halved first with ``BisectBatchOnFunctionError``
  (halving uses no retry), until ``MaximumRetryAttempts`` or ``MaximumRecordAgeInSeconds`` run out; then the
  batch's description goes to ``DestinationConfig.OnFailure`` (an SQS queue) and the checkpoint moves past it.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import json
import logging
import math
import re
import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import ValidationFailed
from core.patterns import Pattern
from events.locks import held_by_live_worker, lock_acquire, lock_release
from events.mappings import SourceKind, enabled_mapping_ids, mapping_filters, record_passes, source_kind_register
from events.models import EventSourceMapping, MappingState, StreamCheckpoint
from events.sqs import _failed_ids, poller_slot
from functions.versions import qualified_resolve
from invoker.models import Invocation, InvocationStatus, InvocationType, Trigger
from invoker.redis_client import get_redis
from invoker.submit import invocation_submit, invocation_wait, sync_wait_seconds
from queues import messages as queue_messages
from queues.selectors import queue_by_arn
from tables import streams
from tables.domain import StreamRecordsWritten
from tables.models import StreamRecord, Table

log = logging.getLogger(__name__)

ARN = re.compile(r"^arn:aws:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]{3,255}/stream/[^/]{1,64}$")
BATCH_MAX = 10_000
BATCH_DEFAULT = 100
PAYLOAD_MAX = 6 * 1024 * 1024
RECORD_OVERHEAD = 512  # a record's envelope around its images, in the event
POLL_BUDGET_S = 60.0
LOCK_S = 15 * 60 + 90
PENDING_S = 120
BACKOFF_MAX_S = 30.0
SCAN_CHUNK = 1000
DEFAULTS = {"ParallelizationFactor": 1, "BisectBatchOnFunctionError": False, "MaximumRetryAttempts": -1, "MaximumRecordAgeInSeconds": -1}


# --- the kind --------------------------------------------------------------------------------------------------------

def _check(arn: str) -> None:
    try:
        streams.stream_get(arn)
    except streams.StreamNotFound:
        raise ValidationFailed(f"Stream not found: {arn}. Turn the table's stream on (StreamSpecification) and use its LatestStreamArn.",
                               details={"field": "EventSourceArn"}) from None


def _int_option(options: dict[str, Any], name: str, low: int, high: int) -> None:
    value = options.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
        raise ValidationFailed(f"{name} must be between {low} and {high}; got {value}.", details={"field": name})


def check_options(options: dict[str, Any]) -> None:
    """The stream settings of a mapping, as Lambda checks them for DynamoDB."""
    _int_option(options, "ParallelizationFactor", 1, 10)
    _int_option(options, "MaximumRetryAttempts", -1, 10_000)
    _int_option(options, "MaximumRecordAgeInSeconds", -1, 604_800)
    age = options.get("MaximumRecordAgeInSeconds")
    if age is not None and age != -1 and age < 60:
        raise ValidationFailed(f"MaximumRecordAgeInSeconds must be -1 (no limit) or between 60 and 604800; got {age}.",
                               details={"field": "MaximumRecordAgeInSeconds"})
    if options.get("BisectBatchOnFunctionError") not in (None, True, False):
        raise ValidationFailed("BisectBatchOnFunctionError must be true or false.", details={"field": "BisectBatchOnFunctionError"})
    if options.get("TumblingWindowInSeconds"):
        raise ValidationFailed("TumblingWindowInSeconds is not supported by Kiln's DynamoDB stream mappings; leave it out or 0.",
                               details={"field": "TumblingWindowInSeconds"})
    destination = ((options.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    if (options.get("DestinationConfig") or {}).get("OnSuccess"):
        raise ValidationFailed("DestinationConfig.OnSuccess is not supported for DynamoDB stream mappings: only OnFailure.", details={"field": "DestinationConfig"})
    if destination:
        queue = queue_by_arn(destination)
        if queue is None or queue.fifo:
            raise ValidationFailed(f"The OnFailure destination {destination} must be an existing standard SQS queue of this account.",
                                   details={"field": "DestinationConfig"})


def _option(mapping: EventSourceMapping, name: str) -> Any:
    value = (mapping.options or {}).get(name)
    return DEFAULTS[name] if value is None else value


def _factor(mapping: EventSourceMapping) -> int:
    return int(_option(mapping, "ParallelizationFactor"))


def _start(mapping: EventSourceMapping) -> None:
    """Checkpoints at the starting position (kept when they exist); partitions re-cut when the factor changed."""
    factor = _factor(mapping)
    stream = streams.stream_get(mapping.event_source_arn)
    with transaction.atomic():
        existing = list(StreamCheckpoint.objects.select_for_update().filter(mapping=mapping))
        if existing and all(c.partitions == factor for c in existing) and len(existing) == factor:
            after = None
        elif existing:  # a new ParallelizationFactor: every partition starts where the slowest one was
            after = min(c.after for c in existing)
            StreamCheckpoint.objects.filter(mapping=mapping).delete()
        elif mapping.starting_position == "LATEST":
            after = Table.objects.filter(pk=stream.table.pk).values_list("stream_sequence", flat=True).first() or 0
        else:
            after = 0
        if after is not None:
            StreamCheckpoint.objects.bulk_create([StreamCheckpoint(mapping=mapping, partition=p, partitions=factor, after=after) for p in range(factor)])
    for partition in range(factor):
        poll_request(mapping.pk, partition)


def register() -> None:
    source_kind_register(SourceKind(name="dynamodb", arn=ARN, batch_default=BATCH_DEFAULT, batch_max=BATCH_MAX, needs_starting_position=True,
                                    starting_positions=("TRIM_HORIZON", "LATEST"), check=_check, check_options=check_options, start=_start))


# --- wake-ups --------------------------------------------------------------------------------------------------------

def _lock_key(mapping_id: Any, partition: int) -> str:
    return f"kiln:esm:ddb:lock:{mapping_id}:{partition}"


def _pending_key(mapping_id: Any, partition: int) -> str:
    return f"kiln:esm:ddb:pending:{mapping_id}:{partition}"


def poll_request(mapping_id: Any, partition: int, *, countdown: float | None = None) -> None:
    """Mark the partition pending and enqueue one poll (at most one waits in the broker), or one poll after ``countdown``."""
    from events.tasks import poll_dynamodb

    if countdown is None:
        if get_redis().set(_pending_key(mapping_id, partition), b"1", nx=True, ex=PENDING_S):
            poll_dynamodb.apply_async(args=[str(mapping_id), partition])
        return
    poll_dynamodb.apply_async(args=[str(mapping_id), partition], countdown=countdown)


def records_written(event: StreamRecordsWritten) -> None:
    """Records on a stream: poll every partition of the enabled mappings reading it."""
    mapping_ids = enabled_mapping_ids("dynamodb", event.stream_arn)  # cached: a write to a stream nobody reads asks no query
    if not mapping_ids:
        return
    for mapping in EventSourceMapping.objects.filter(pk__in=mapping_ids, state=MappingState.ENABLED):
        for partition in range(_factor(mapping)):
            poll_request(mapping.pk, partition)


def dynamodb_sweep() -> int:
    """Beat: poll the partitions with records after their checkpoint and no poll running (a lost wake-up)."""
    polled = 0
    for mapping in EventSourceMapping.objects.filter(kind="dynamodb", state=MappingState.ENABLED):
        try:
            stream = streams.stream_get(mapping.event_source_arn)
        except streams.StreamNotFound:
            continue
        for checkpoint in StreamCheckpoint.objects.filter(mapping=mapping):
            holder = get_redis().get(_lock_key(mapping.pk, checkpoint.partition))
            if held_by_live_worker(holder):
                continue  # a poll runs; one whose worker died is polled again at once and its lock taken over
            if stream.records().filter(sequence__gt=checkpoint.after).exists():
                # A dead poller may have left its pending mark too, which would hold back a plain request: sent at once.
                poll_request(mapping.pk, checkpoint.partition, countdown=0 if holder is not None else None)
                polled += 1
    return polled


# --- the event -------------------------------------------------------------------------------------------------------

def partition_of(keys: dict[str, Any], factor: int) -> int:
    """The partition of a record's keys (stable across processes)."""
    if factor <= 1:
        return 0
    digest = hashlib.sha256(json.dumps(keys, sort_keys=True, separators=(",", ":")).encode()).digest()
    return int.from_bytes(digest[:8], "big") % factor


def dynamodb_event(records: list[StreamRecord], stream: streams.Stream) -> dict[str, Any]:
    """Lambda's DynamoDB event for a batch."""
    view_type = stream.view_type
    return {"Records": [streams.record_wire(r, view_type=view_type, arn=stream.arn, lambda_event=True) for r in records]}


def _batch(stream: streams.Stream, checkpoint: StreamCheckpoint, size: int, patterns: list[Pattern] | None = None) -> tuple[list[StreamRecord], int]:
    """Up to ``size`` records of the checkpoint's partition after it that pass the mapping's filters, within Lambda's
    6 MB payload (at least one), and the sequence read up to (every such record up to it is in the batch)."""
    batch: list[StreamRecord] = []
    view_type = stream.view_type
    cursor, payload = checkpoint.after, 0
    while len(batch) < size:
        chunk = list(stream.records().filter(sequence__gt=cursor).order_by("sequence")[:SCAN_CHUNK])
        if not chunk:
            break
        for record in chunk:
            if partition_of(record.keys, checkpoint.partitions) != checkpoint.partition or (
                    patterns and not record_passes(patterns, streams.record_wire(record, view_type=view_type, arn=stream.arn, lambda_event=True))):
                cursor = record.sequence  # another partition's, or filtered out: dropped, as Lambda drops it
                continue
            payload += record.size_bytes + RECORD_OVERHEAD
            if batch and payload > PAYLOAD_MAX:
                return batch, batch[-1].sequence
            batch.append(record)
            cursor = record.sequence
            if len(batch) == size:
                return batch, cursor
    return batch, cursor


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def on_failure_record(*, mapping: EventSourceMapping, stream: streams.Stream, batch: list[StreamRecord], condition: str,
                      invocation: Invocation | None, attempts: int) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's OnFailure destination about a batch it gives up on."""
    function_arn = mapping.function.arn + (f":{mapping.qualifier}" if mapping.qualifier else "")
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": invocation.executed_version if invocation else "$LATEST"}
    if invocation is not None and invocation.status != InvocationStatus.SUCCEEDED:
        response["functionError"] = "Unhandled"
    return {
        "requestContext": {"requestId": str(invocation.id) if invocation else "", "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": attempts},
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(timezone.now()),
        "DDBStreamBatchInfo": {"shardId": stream.shard_id, "startSequenceNumber": streams.sequence_wire(batch[0].sequence),
                               "endSequenceNumber": streams.sequence_wire(batch[-1].sequence),
                               "approximateArrivalOfFirstRecord": _iso(batch[0].created_at), "approximateArrivalOfLastRecord": _iso(batch[-1].created_at),
                               "batchSize": len(batch), "streamArn": stream.arn},
    }


def _send_on_failure(mapping: EventSourceMapping, record: dict[str, Any]) -> None:
    destination = (((mapping.options or {}).get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    if not destination:
        return
    queue = queue_by_arn(destination)
    if queue is None:
        log.warning("event source mapping %s: its OnFailure queue %s is gone; the record is dropped", mapping.pk, destination)
        return
    queue_messages.message_send(queue=queue, outgoing=queue_messages.message_validate(queue=queue, body=json.dumps(record)))


# --- polling ---------------------------------------------------------------------------------------------------------

def _invoke(mapping: EventSourceMapping, stream: streams.Stream, batch: list[StreamRecord]) -> Invocation:
    resolved = qualified_resolve(mapping.function.name, mapping.qualifier or None)
    payload = json.dumps(dynamodb_event(batch, stream)).encode()
    detail = {"event_source_mapping": str(mapping.uuid), "stream_arn": stream.arn, "shard_id": stream.shard_id,
              "first_sequence": streams.sequence_wire(batch[0].sequence), "last_sequence": streams.sequence_wire(batch[-1].sequence), "batch_size": len(batch)}
    invocation = invocation_submit(function=resolved.function, revision=resolved.revision, payload=payload, invocation_type=InvocationType.REQUEST_RESPONSE,
                                   trigger=Trigger.STREAM, trigger_detail=detail, qualifier=mapping.qualifier or "$LATEST", executed_version=resolved.version)
    return invocation_wait(invocation, timeout_s=sync_wait_seconds(resolved.revision))


def _save(checkpoint: StreamCheckpoint, **fields: Any) -> bool:
    """Move the checkpoint (``False`` when it was re-cut meanwhile: the poll stops)."""
    moved = StreamCheckpoint.objects.filter(pk=checkpoint.pk, after=checkpoint.after, partitions=checkpoint.partitions).update(**fields, updated_at=timezone.now())
    for name, value in fields.items():
        setattr(checkpoint, name, value)
    return bool(moved)


def _result(mapping: EventSourceMapping, text: str) -> None:
    EventSourceMapping.objects.filter(pk=mapping.pk).update(last_processing_result=text)


def _give_up(mapping: EventSourceMapping, stream: streams.Stream, checkpoint: StreamCheckpoint, batch: list[StreamRecord], *, after: int,
             condition: str, invocation: Invocation | None, attempts: int) -> float | None:
    """Pass records Lambda stops retrying: their description to the OnFailure destination and the checkpoint past them, together."""
    with transaction.atomic():
        if not _save(checkpoint, after=after, attempts=0, batch_cap=0):
            return 0
        _send_on_failure(mapping, on_failure_record(mapping=mapping, stream=stream, batch=batch, condition=condition, invocation=invocation, attempts=attempts))
    return None


def _step(mapping: EventSourceMapping, stream: streams.Stream, checkpoint: StreamCheckpoint) -> float | None:
    """One batch. ``None``: go on with the next; ``0``: nothing to do; a positive number: poll again after that many seconds."""
    size = checkpoint.batch_cap or mapping.batch_size
    batch, scanned = _batch(stream, checkpoint, size, mapping_filters(mapping))
    if not batch:
        if scanned > checkpoint.after:  # only other partitions' (or filtered) records: this one is read up to them
            _save(checkpoint, after=scanned)
        return 0
    if mapping.batching_window_s and len(batch) < mapping.batch_size and checkpoint.attempts == 0 and not checkpoint.batch_cap:
        waited = (timezone.now() - batch[0].created_at).total_seconds()
        if waited < mapping.batching_window_s:
            return max(mapping.batching_window_s - waited, 0.05)
    max_age = int(_option(mapping, "MaximumRecordAgeInSeconds"))
    now = timezone.now()
    expired = list(itertools.takewhile(lambda r: max_age != -1 and (now - r.created_at).total_seconds() > max_age, batch))
    if expired:  # too old to be sent at all: described to the OnFailure destination, and passed
        return _give_up(mapping, stream, checkpoint, expired, after=expired[-1].sequence if len(expired) < len(batch) else scanned,
                        condition="RecordAgeExceeded", invocation=None, attempts=checkpoint.attempts)
    invocation = _invoke(mapping, stream, batch)
    sequences = {streams.sequence_wire(r.sequence): r.sequence for r in batch}
    if invocation.status != InvocationStatus.SUCCEEDED:
        failed: set[str] | None = None
    elif "ReportBatchItemFailures" in (mapping.function_response_types or []):
        failed = _failed_ids(invocation.result, set(sequences))
    else:
        failed = set()
    if failed == set():
        _result(mapping, "OK")
        return None if _save(checkpoint, after=scanned, attempts=0, batch_cap=0) else 0
    _result(mapping, "PROBLEM: Function call failed")
    retry_from, bisected = batch, False
    if failed:  # partial: the checkpoint moves to the lowest failed record; what follows it is retried
        lowest = min(sequences[s] for s in failed)
        done = [r for r in batch if r.sequence < lowest]
        retry_from = [r for r in batch if r.sequence >= lowest]
        attempts = checkpoint.attempts + 1
        cap = 0
    elif bisected := bool(_option(mapping, "BisectBatchOnFunctionError") and len(batch) > 1):
        done, attempts, cap = [], checkpoint.attempts, math.ceil(len(batch) / 2)  # halving uses no retry
    else:
        done, attempts, cap = [], checkpoint.attempts + 1, checkpoint.batch_cap
    after = done[-1].sequence if done else checkpoint.after
    retries = int(_option(mapping, "MaximumRetryAttempts"))
    too_old = max_age != -1 and (timezone.now() - retry_from[0].created_at).total_seconds() > max_age
    if too_old or (retries != -1 and attempts > retries):
        return _give_up(mapping, stream, checkpoint, retry_from, after=scanned, condition="RecordAgeExceeded" if too_old else "RetryAttemptsExhausted",
                        invocation=invocation, attempts=attempts)
    if not _save(checkpoint, after=after, attempts=attempts, batch_cap=cap):
        return 0
    if bisected:
        return None  # the first half goes at once
    return min(0.2 * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S)


def _enabled(mapping_id: Any) -> EventSourceMapping | None:
    """The mapping while it reads (also while its start settles: the first poll may run before ``Enabled`` commits)."""
    reading = (MappingState.ENABLED, MappingState.CREATING, MappingState.ENABLING, MappingState.UPDATING)
    return EventSourceMapping.objects.select_related("function").filter(pk=mapping_id, kind="dynamodb", state__in=reading, enabled=True).first()


def dynamodb_poll(mapping_id: str, partition: int = 0) -> int:
    """One poller run for a partition of a mapping (the Celery task's body); how many batches it invoked with."""
    redis = get_redis()
    if not lock_acquire(redis, _lock_key(mapping_id, partition), LOCK_S):
        return 0  # another poll runs (it sees the pending mark before it stops); a dead worker's lock is taken over
    slot = poller_slot(redis)
    if slot is None:
        lock_release(redis, _lock_key(mapping_id, partition))
        poll_request(mapping_id, partition, countdown=1.0)
        return 0
    batches, started, later = 0, time.monotonic(), None
    try:
        while True:
            redis.delete(_pending_key(mapping_id, partition))
            mapping = _enabled(mapping_id)
            checkpoint = StreamCheckpoint.objects.filter(mapping_id=mapping_id, partition=partition).first() if mapping else None  # type: ignore[misc]  # a UUID as text
            if mapping is None or checkpoint is None:
                return batches
            try:
                stream = streams.stream_get(mapping.event_source_arn)
            except streams.StreamNotFound:
                _result(mapping, "PROBLEM: Stream not found")
                return batches
            try:
                outcome = _step(mapping, stream, checkpoint)
            except Exception as exc:  # noqa: BLE001 - the batch stays after the checkpoint; beat's sweep comes back to it
                log.exception("event source mapping %s could not deliver a batch", mapping_id)
                _result(mapping, f"PROBLEM: {exc}"[:256])
                later = BACKOFF_MAX_S
                break
            if outcome == 0:
                break
            batches += 1
            if outcome is not None:
                later = outcome
                break
            if time.monotonic() - started > POLL_BUDGET_S:
                later = 0.0  # a fresh task continues, after this one's lock is gone
                break
    finally:
        lock_release(redis, _lock_key(mapping_id, partition), slot)
    if later is not None:
        poll_request(mapping_id, partition, countdown=later)
    elif redis.exists(_pending_key(mapping_id, partition)):  # records came while this poll was finishing
        redis.delete(_pending_key(mapping_id, partition))
        poll_request(mapping_id, partition, countdown=0)
    return batches
