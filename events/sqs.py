"""SQS → Lambda: the ``sqs`` source kind of event source mappings, its poller, and Lambda's SQS event.

No busy loop: a mapping with nothing to do runs nothing. A send (``queues.domain.MessagesAvailable``, after
commit) marks the mapping *pending* in Redis and enqueues one ``events.tasks.poll_sqs``; the poll holds a
per-mapping lock, drains the queue batch by batch (``BatchSize`` 1-10,000 gathered for up to
``MaximumBatchingWindowInSeconds``), invokes the function synchronously with each batch, deletes what
succeeded (all, or all but ``batchItemFailures`` with ``ReportBatchItemFailures``) and leaves the rest to
come back after the queue's visibility timeout, when the queue's ``RedrivePolicy`` moves them on. With the
queue empty it releases the lock, and re-polls only if a send marked it pending meanwhile, or, when messages
are in flight or delayed, once at the time the next one becomes visible. Beat's sweep catches lost wake-ups.

A batch in flight is noted in Redis (``kiln:esm:inflight:<mapping>``) from before its first receive (its receipt
tokens start with the batch's id) until it is settled, with its invocation and receipt handles once submitted.
When the poll's worker dies (SIGKILL), the mapping's next poll finishes what it left: a batch received but not yet
submitted is made visible again; a submitted one (its invocation still runs: its row is requeued like any other)
is settled once that row is final, deleting what succeeded as the dead poll would have. Without this every message
stayed invisible for the queue's visibility timeout and ran a second time afterwards (``make chaos``: 20 messages
six minutes late).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import RedisError

from core.errors import ValidationFailed
from events.locks import held_by_live_worker, lock_acquire, lock_release
from events.mappings import SourceKind, enabled_mapping_ids, mapping_filters, record_passes, source_kind_register
from events.models import EventSourceMapping, MappingState
from functions.versions import qualified_resolve
from invoker.models import Invocation, InvocationStatus, InvocationType, Trigger
from invoker.redis_client import get_redis
from invoker.submit import invocation_submit, invocation_wait, sync_wait_seconds
from invoker.workers import WORKER_NAME, worker_alive
from queues import messages as queue_messages
from queues.domain import MessagesAvailable
from queues.models import Message, Queue
from queues.selectors import queue_by_arn

log = logging.getLogger(__name__)

ARN = re.compile(r"^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")
BATCH_MAX = 10_000
BATCH_DEFAULT = 10
PAYLOAD_MAX = 6 * 1024 * 1024  # a synchronous invoke's event
POLL_BUDGET_S = 60.0  # one poll task's run before it hands over to a fresh one
LOCK_S = 15 * 60 + 90  # longer than any function's timeout plus a batching window
PENDING_S = 120
DELETE_CHUNK = 500  # succeeded messages deleted per statement


def _lock_key(mapping_id: Any, poller: int = 0) -> str:
    return f"kiln:esm:lock:{mapping_id}" + (f":{poller}" if poller else "")


def _acquire(redis: Any, key: str) -> bool:
    return lock_acquire(redis, key, LOCK_S)


def mapping_pollers(mapping: EventSourceMapping) -> int:
    """How many batches of one mapping may run at once: ``ScalingConfig.MaximumConcurrency`` (2-1000), capped by
    Kiln's poller slots (``KILN_SQS_POLLERS_MAX``); without it, as many as those slots allow, as Lambda scales."""
    return max(1, min(mapping.maximum_concurrency or settings.KILN_SQS_POLLERS_MAX, settings.KILN_SQS_POLLERS_MAX))


def _extra_lock(redis: Any, mapping_id: Any, pollers: int) -> int | None:
    """One of the mapping's extra poller locks (1 .. pollers-1), or ``None`` when all are held."""
    for poller in range(1, pollers):
        if _acquire(redis, _lock_key(mapping_id, poller)):
            return poller
    return None


def _scale_out(redis: Any, mapping_id: Any, pollers: int) -> None:
    """A full batch and room for another poller: start one (it drains beside this one while batches stay full)."""
    from events.tasks import poll_sqs

    try:
        if any(not redis.exists(_lock_key(mapping_id, poller)) for poller in range(1, pollers)):
            poll_sqs.apply_async(args=[str(mapping_id)], kwargs={"extra": True})
    except Exception as exc:  # noqa: BLE001 - Redis or the broker away: the batch in hand is delivered all the same, the next full one tries again
        log.warning("could not start another poller for mapping %s: %s", mapping_id, exc)


def poller_slot(redis: Any) -> str | None:
    """One of ``KILN_SQS_POLLERS_MAX`` poller slots (shared by the SQS and DynamoDB stream pollers) (expiring keys, so a crashed worker's slot comes back), or ``None``."""
    for index in range(settings.KILN_SQS_POLLERS_MAX):
        key = f"kiln:esm:slot:{index}"
        if _acquire(redis, key):
            return key
    return None


SETTLING_RETRY_S = 0.5  # a poll that came before its mapping's move to Enabled committed looks again after this


def _pending_key(mapping_id: Any) -> str:
    return f"kiln:esm:pending:{mapping_id}"


def _inflight_key(mapping_id: Any) -> str:
    """The mapping's batches in flight: a hash of batch id → ``{"worker", "at"}``, with ``"invocation"`` and ``"handles"``
    (message id → receipt handle) once the batch's invocation is submitted."""
    return f"kiln:esm:inflight:{mapping_id}"


def _check(arn: str) -> None:
    if queue_by_arn(arn) is None:
        raise ValidationFailed(f"The event source arn ({arn}) does not exist: create the queue first.", details={"field": "EventSourceArn"})


def _check_function(arn: str, function: Any) -> None:
    """As Lambda checks it: the queue's visibility timeout must be at least the function's timeout."""
    queue = queue_by_arn(arn)
    timeout = function.latest.timeout if function.latest is not None else 0
    if queue is not None and queue.visibility_timeout < timeout:
        raise ValidationFailed(f"Queue visibility timeout: {queue.visibility_timeout} seconds is less than Function timeout: {timeout} seconds",
                               details={"field": "EventSourceArn"})


def poll_request(mapping_id: Any, *, countdown: float | None = None) -> None:
    """Mark the mapping pending and enqueue one poll (at most one waits in the broker per mapping)."""
    from events.tasks import poll_sqs

    redis = get_redis()
    if countdown is None:
        if redis.set(_pending_key(mapping_id), b"1", nx=True, ex=PENDING_S):
            poll_sqs.apply_async(args=[str(mapping_id)])
        return
    poll_sqs.apply_async(args=[str(mapping_id)], countdown=countdown)


def _start(mapping: EventSourceMapping) -> None:
    poll_request(mapping.pk)


def messages_available(event: MessagesAvailable) -> None:
    """A send to a queue: poll the enabled mappings reading it."""
    for mapping_id in enabled_mapping_ids("sqs", event.queue_arn):
        poll_request(mapping_id)


def register() -> None:
    source_kind_register(SourceKind(name="sqs", arn=ARN, batch_default=BATCH_DEFAULT, batch_max=BATCH_MAX, check=_check,
                                    check_function=_check_function, start=_start))


# --- the event -------------------------------------------------------------------------------------------------------

def _message_attributes(message: Message) -> dict[str, Any]:
    out = {}
    for name, value in message.attributes.items():
        out[name] = {"stringValue": value.get("StringValue"), "binaryValue": value.get("BinaryValue"), "stringListValues": [], "binaryListValues": [],
                     "dataType": value["DataType"]}
    return out


def sqs_record(received: queue_messages.Received, queue: Queue) -> dict[str, Any]:
    """One record of Lambda's SQS event, as Lambda builds it."""
    message = received.message
    record: dict[str, Any] = {"messageId": message.message_id, "receiptHandle": received.receipt_handle, "body": message.body,
                              "attributes": queue_messages.system_attributes_of(message, fifo=queue.fifo), "messageAttributes": _message_attributes(message),
                              "md5OfBody": message.body_md5, "eventSource": "aws:sqs", "eventSourceARN": queue.arn, "awsRegion": settings.KILN_REGION}
    if message.attributes:
        record["md5OfMessageAttributes"] = message.attributes_md5
    record["attributes"].pop("DeadLetterQueueSourceArn", None)
    return record


# --- polling ---------------------------------------------------------------------------------------------------------

def _gather(mapping: EventSourceMapping, queue: Queue, batch_id: str) -> list[queue_messages.Received]:
    """Up to ``BatchSize`` messages, waiting up to the batching window for the batch to fill; each receipt token
    starts with ``batch_id`` (noted in flight before the first receive, so a poll that dies holding them is undone)."""
    batch: list[queue_messages.Received] = []
    deadline = time.monotonic() + mapping.batching_window_s
    while len(batch) < mapping.batch_size:
        left = deadline - time.monotonic()
        wait = 0 if not batch and mapping.batching_window_s == 0 else max(0, min(20, int(left + 0.999)))
        if batch and left <= 0:
            break
        got = queue_messages.message_receive(queue=queue, max_messages=min(10, mapping.batch_size - len(batch)), wait_seconds=wait, token_prefix=batch_id)
        batch += got
        if not got and (left <= 0 or mapping.batching_window_s == 0):
            break
    size = 0
    for index, item in enumerate(batch):
        size += len(item.message.body.encode()) + 1024
        if size > PAYLOAD_MAX:  # the rest goes back to the queue, visible now
            for extra in batch[index:]:
                queue_messages.message_change_visibility(queue=queue, receipt_handle=extra.receipt_handle, timeout=0)
            return batch[:index]
    return batch


def _filtered(mapping: EventSourceMapping, queue: Queue, batch: list[queue_messages.Received]) -> list[queue_messages.Received]:
    """The messages passing the mapping's ``FilterCriteria``; as Lambda does for SQS, the others are deleted."""
    filters = mapping_filters(mapping)
    if not filters:
        return batch
    passing = []
    for item in batch:
        if record_passes(filters, sqs_record(item, queue)):
            passing.append(item)
        else:
            queue_messages.message_delete(queue=queue, receipt_handle=item.receipt_handle)
    return passing


def _failed_ids(result: str | None, ids: set[str]) -> set[str] | None:
    """The ``batchItemFailures`` of a ReportBatchItemFailures response; ``None``: the whole batch failed (an invalid response)."""
    if result is None or result in ("", "null"):
        return set()
    try:
        document = json.loads(result)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("batchItemFailures") in (None, []):
        return set() if isinstance(document, dict) or document is None else None
    failures = document["batchItemFailures"]
    if not isinstance(failures, list):
        return None
    found = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in ids:
            return None
        found.add(identifier)
    return found


def _deliver(mapping: EventSourceMapping, queue: Queue, batch: list[queue_messages.Received], batch_id: str, submitted: list[str]) -> bool:
    """Invoke the function with the batch and wait for it, then settle the batch; whether it was settled (False: handed
    to a later poll). The invocation's id goes into ``submitted`` as soon as it is submitted (from then on the batch is
    not undone: it runs)."""
    resolved = qualified_resolve(mapping.function.name, mapping.qualifier or None)
    payload = json.dumps({"Records": [sqs_record(item, queue) for item in batch]}).encode()
    detail = {"event_source_mapping": str(mapping.uuid), "queue": queue.arn, "message_ids": [item.message.message_id for item in batch][:100],
              "batch_size": len(batch)}
    invocation = invocation_submit(function=resolved.function, revision=resolved.revision, payload=payload, invocation_type=InvocationType.REQUEST_RESPONSE,
                                   trigger=Trigger.QUEUE, trigger_detail=detail, qualifier=mapping.qualifier or "$LATEST", executed_version=resolved.version)
    submitted.append(str(invocation.id))
    handles = {item.message.message_id: item.receipt_handle for item in batch}
    _inflight_note(mapping.pk, batch_id, {"invocation": str(invocation.id), "handles": handles})
    done = invocation_wait(invocation, timeout_s=sync_wait_seconds(resolved.revision))
    if not done.is_final:
        # Still queued or running when the wait ended (make chaos: its message was lost in a Redis crash, and the
        # re-send ran it 80 s later): settling it now would leave its messages to the visibility timeout and run them
        # twice. The poll hands it to the next one (``_inflight_abandon``), which settles it once it is final.
        return False
    _settle(mapping, queue, done, handles)
    return True


def _inflight_note(mapping_id: Any, batch_id: str, record: dict[str, Any] | None = None) -> bool:
    """Note the batch in flight, before its first receive (``record`` None) and once its invocation is submitted, so a
    poll after this worker's death can finish or undo it; False if Redis would not."""
    try:
        redis = get_redis()
        pipe = redis.pipeline(transaction=False)
        pipe.hset(_inflight_key(mapping_id), batch_id, json.dumps({"worker": WORKER_NAME, "at": time.time(), **(record or {})}))
        pipe.expire(_inflight_key(mapping_id), LOCK_S)
        pipe.execute()
        return True
    except RedisError as exc:  # the batch is delivered all the same; only a death of this worker would leave it to the visibility timeout
        log.warning("could not note the batch in flight of mapping %s: %s", mapping_id, exc)
        return False


def _inflight_forget(mapping_id: Any, batch_id: str) -> None:
    try:
        get_redis().hdel(_inflight_key(mapping_id), batch_id)
    except RedisError as exc:  # a later poll finds its worker alive or the batch settled, and drops it
        log.warning("could not clear the batch in flight of mapping %s: %s", mapping_id, exc)


def _inflight_abandon(mapping_id: Any, batch_id: str, *, submitted: bool) -> None:
    """This poll gave up on a batch it could not account for: its note names no worker, so the next poll settles it
    (its invocation final) or makes its messages visible again (never submitted) without waiting for a heartbeat. A
    submitted batch whose note never got its invocation (Redis refused that write) is left as noted: releasing its
    messages would run them twice."""
    try:
        redis = get_redis()
        raw = redis.hget(_inflight_key(mapping_id), batch_id)
        note = json.loads(raw) if raw is not None else None
        if note is not None and (not submitted or "invocation" in note):
            redis.hset(_inflight_key(mapping_id), batch_id, json.dumps({**note, "worker": ""}))
    except RedisError as exc:  # the note is kept as it is: a later poll acts once this worker's heartbeat is gone
        log.warning("could not hand over the batch in flight of mapping %s: %s", mapping_id, exc)


def _release(queue: Queue, batch_id: str) -> bool:
    """Make a batch that was received but never submitted visible again now; whether that worked."""
    try:
        released = queue_messages.messages_release_received(queue=queue, token_prefix=batch_id)
    except Exception as exc:  # noqa: BLE001 - the database away too: the note (or the visibility timeout) brings them back
        log.warning("could not make the undelivered batch %s of queue %s visible again: %s", batch_id, queue.name, exc)
        return False
    if released:
        log.warning("made %d messages of queue %s visible again: their batch could not be delivered", released, queue.name)
    return True


def _settle(mapping: EventSourceMapping, queue: Queue, done: Invocation, handles: dict[str, str]) -> None:
    """Delete what the finished (or given up) invocation ``done`` processed; the rest comes back after the visibility timeout."""
    if done.status != InvocationStatus.SUCCEEDED:
        failed: set[str] | None = None
        result = f"PROBLEM: Function call failed ({done.status})"
    elif "ReportBatchItemFailures" in (mapping.function_response_types or []):
        failed = _failed_ids(done.result, set(handles))
        result = "OK" if failed == set() else ("PROBLEM: Function call failed (invalid batchItemFailures: the whole batch is retried)" if failed is None
                                               else f"OK ({len(failed)} batch item failures)")
    else:
        failed, result = set(), "OK"
    done_handles = [handle for message_id, handle in handles.items() if failed is not None and message_id not in failed]
    for start in range(0, len(done_handles), DELETE_CHUNK):  # one statement per chunk, not one per message
        queue_messages.message_delete_batch(queue=queue, handles={str(i): h for i, h in enumerate(done_handles[start:start + DELETE_CHUNK])})
    EventSourceMapping.objects.filter(pk=mapping.pk).update(last_processing_result=result)


def _settle_orphans(redis: Any, mapping: EventSourceMapping, queue: Queue) -> int:
    """Finish or undo the batches whose poll's worker died (how many): one whose invocation is final is settled as
    that poll would have; one received but never submitted (the worker died in between) is made visible again; one
    whose invocation still runs stays noted for a later poll (the sweep sends one while any is left); one older than
    ``LOCK_S`` or whose invocation is gone is dropped (its messages come back after their visibility timeout)."""
    entries = redis.hgetall(_inflight_key(mapping.pk))
    settled = 0
    for raw_id, raw in entries.items():
        batch_id, record = raw_id.decode(), json.loads(raw)
        if worker_alive(record["worker"]):
            continue  # a live poll waits for it
        if "invocation" not in record:
            released = queue_messages.messages_release_received(queue=queue, token_prefix=batch_id)
            log.warning("made %d messages of mapping %s visible again: their poll's worker %s died before it delivered them",
                        released, mapping.pk, record["worker"])
            settled += 1
            redis.hdel(_inflight_key(mapping.pk), batch_id)
            continue
        done = Invocation.objects.defer("payload", "logs", "trigger_detail").filter(pk=record["invocation"]).first()
        if done is not None and not done.is_final and time.time() - record["at"] < LOCK_S:
            continue
        if done is not None and done.is_final:
            _settle(mapping, queue, done, record["handles"])
            settled += 1
            log.warning("settled the batch of %d messages of mapping %s whose poll's worker %s died (invocation %s, %s)",
                        len(record["handles"]), mapping.pk, record["worker"], record["invocation"], done.status)
        redis.hdel(_inflight_key(mapping.pk), batch_id)
    return settled


def _enabled(mapping_id: Any) -> EventSourceMapping | None:
    return EventSourceMapping.objects.select_related("function").filter(pk=mapping_id, kind="sqs", state=MappingState.ENABLED, enabled=True).first()


def sqs_poll(mapping_id: str, *, extra: bool = False) -> int:
    """One poller run for a mapping (the Celery task's body); how many messages it delivered.

    The mapping's first poller (lock 0) is the one a send wakes; it hands over, re-polls when a send came while it
    finished, and schedules the poll for messages becoming visible. While batches come full it starts extra pollers
    (``extra``, locks 1 .. ``mapping_pollers - 1``) that drain beside it and stop at the first short batch."""
    redis = get_redis()
    mapping = _enabled(mapping_id)
    if mapping is None:
        if not extra:
            settling = EventSourceMapping.objects.filter(pk=mapping_id, kind="sqs", enabled=True,
                                                         state__in=(MappingState.CREATING, MappingState.ENABLING, MappingState.UPDATING)).exists()
            if settling:  # its settle started this poll before the state moved to Enabled: look again in a moment
                poll_request(mapping_id, countdown=SETTLING_RETRY_S)
                return 0
            redis.delete(_pending_key(mapping_id))  # not enabled any more: a later send must be able to wake a poll again
        return 0
    pollers = mapping_pollers(mapping)
    poller = _extra_lock(redis, mapping_id, pollers) if extra else (0 if _acquire(redis, _lock_key(mapping_id)) else None)
    if poller is None:
        return 0  # another poll runs (the first one sees the pending mark before it stops), or no extra lock is free
    slot = poller_slot(redis)
    if slot is None:  # every poller slot is busy: the worker's threads stay free for the functions; try again shortly
        lock_release(redis, _lock_key(mapping_id, poller))
        if not extra:
            poll_request(mapping_id, countdown=1.0)
        return 0
    delivered, started, handover, first, orphans_checked = 0, time.monotonic(), False, True, extra
    queue: Queue | None = None
    try:
        while True:
            if not extra:
                redis.delete(_pending_key(mapping_id))
            if not first:  # the mapping as read before the lock serves the first batch; each later one re-reads it
                mapping = _enabled(mapping_id)
            first = False
            queue = queue_by_arn(mapping.event_source_arn) if mapping else None
            if mapping is None or queue is None:
                return delivered
            if not orphans_checked:  # once per poll task (the first poller's): a worker's death is rare
                _settle_orphans(redis, mapping, queue)
                orphans_checked = True
            batch_id = secrets.token_hex(6)
            noted = _inflight_note(mapping_id, batch_id)
            submitted: list[str] = []  # the batch's invocation, once _deliver has submitted it
            accounted = False  # every message received is delivered, deleted or visible again
            try:
                batch = _gather(mapping, queue, batch_id)
                if not batch:
                    accounted = True
                    break
                full = len(batch) >= mapping.batch_size
                batch = _filtered(mapping, queue, batch)
                if batch:
                    if full and pollers > 1:
                        _scale_out(redis, mapping_id, pollers)
                    try:
                        settled = _deliver(mapping, queue, batch, batch_id, submitted)
                    except Exception as exc:  # noqa: BLE001 - undone below, or settled by a later poll
                        log.exception("event source mapping %s could not deliver a batch", mapping_id)
                        EventSourceMapping.objects.filter(pk=mapping_id).update(last_processing_result=f"PROBLEM: {exc}"[:256])
                        break
                    delivered += len(batch)
                    if not settled:
                        break  # handed to the next poll (the sweep sends one while a note is left)
                accounted = True
            finally:
                # A failure between the receive and the submit (make chaos: Redis went away under a poll holding a
                # batch, and its note with it) would leave the messages to their visibility timeout: they are made
                # visible again now. Once submitted, the invocation runs: a later poll settles it from the note.
                if not accounted and not submitted:
                    accounted = _release(queue, batch_id)
                if not accounted:
                    _inflight_abandon(mapping_id, batch_id, submitted=bool(submitted))  # its note may exist though the first write failed
                elif noted:
                    _inflight_forget(mapping_id, batch_id)
            if extra and not full:
                break  # the queue no longer fills batches: the first poller carries on alone
            if time.monotonic() - started > POLL_BUDGET_S:
                handover = not extra  # a fresh task continues, after this one's lock is gone
                break
    finally:
        lock_release(redis, _lock_key(mapping_id, poller), slot)
    if extra:
        return delivered
    if handover or redis.exists(_pending_key(mapping_id)):  # more to do, or a send came while this poll was finishing
        redis.delete(_pending_key(mapping_id))
        poll_request(mapping_id, countdown=0)
    elif queue is not None:
        _poll_when_visible(queue)
    return delivered


def _poll_when_visible(queue: Queue) -> None:
    """Messages in flight or delayed: one poll when the next becomes visible (a failed batch's retry, a delay)."""
    due = Message.objects.filter(queue=queue, visible_at__gt=timezone.now()).order_by("visible_at").values_list("visible_at", flat=True).first()
    if due is None:
        return
    for mapping_id in enabled_mapping_ids("sqs", queue.arn):
        poll_request(mapping_id, countdown=max((due - timezone.now()).total_seconds(), 0) + 0.05)


def sqs_sweep() -> int:
    """Beat: poll the enabled mappings whose queue has visible messages, or a batch in flight, and no poll running (a
    lost wake-up, or a poll whose worker died: its lock names a worker without a heartbeat)."""
    polled = 0
    now = timezone.now()
    redis = get_redis()
    for mapping in EventSourceMapping.objects.filter(kind="sqs", state=MappingState.ENABLED):
        queue = queue_by_arn(mapping.event_source_arn)
        holder = redis.get(_lock_key(mapping.pk))
        if queue is None or held_by_live_worker(holder):
            continue
        if Message.objects.filter(Q(queue=queue), Q(visible_at__lte=now)).exists() or redis.exists(_inflight_key(mapping.pk)):
            # Visible messages, or a batch in flight that no live poll waits for (its poll's worker died): a poll settles it.
            # A poll whose worker died left its lock (and maybe its pending mark): a poll is sent at once; it takes the lock over.
            poll_request(mapping.pk, countdown=0 if holder is not None else None)
            polled += 1
    return polled
