"""SQS → Lambda end to end with a real worker: Lambda's SQS event, deletes on success, partial batch failures,
redrive to the dead-letter queue by the queue's policy, and a drained queue with nothing lost or duplicated."""

from __future__ import annotations

import json

import pytest

from events import mappings
from events.models import EventSourceMapping, MappingState
from events.sqs import _failed_ids, sqs_record
from functions.services import Code, FunctionConfig, function_create
from invoker.models import FINAL_STATUSES, Invocation, InvocationStatus, Trigger
from queues import messages, services
from queues.models import Message
from queues.selectors import queue_counts
from tests.waiting import until

pytestmark = pytest.mark.django_db(transaction=True)

HANDLER = (
    "def handler(event, context):\n"
    "    failures = [{'itemIdentifier': r['messageId']} for r in event['Records'] if r['body'].startswith('fail')]\n"
    "    return {'batchItemFailures': failures, 'ids': [r['messageId'] for r in event['Records']]}\n"
)


def _send(queue, body: str, **kwargs) -> str:
    return messages.message_send(queue=queue, outgoing=messages.message_validate(queue=queue, body=body, **kwargs)).message_id



def test_batch_item_failures_are_parsed_as_lambda_does() -> None:
    ids = {"a", "b"}
    assert _failed_ids(None, ids) == set() and _failed_ids('{"batchItemFailures": []}', ids) == set() and _failed_ids("{}", ids) == set()
    assert _failed_ids('{"batchItemFailures": [{"itemIdentifier": "a"}]}', ids) == {"a"}
    assert _failed_ids('{"batchItemFailures": [{"itemIdentifier": ""}]}', ids) is None  # invalid: the whole batch fails
    assert _failed_ids('{"batchItemFailures": [{"itemIdentifier": "zzz"}]}', ids) is None
    assert _failed_ids("not json", ids) is None


def test_the_record_is_lambdas_sqs_event(db: None) -> None:
    queue = services.queue_create(name="shape")
    _send(queue, "hi", attributes={"k": {"DataType": "String", "StringValue": "v"}})
    received = messages.message_receive(queue=queue)[0]
    record = sqs_record(received, queue)
    assert set(record) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody", "md5OfMessageAttributes", "eventSource",
                           "eventSourceARN", "awsRegion"}
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == queue.arn and record["awsRegion"] == "us-east-1"
    assert record["messageAttributes"] == {"k": {"stringValue": "v", "binaryValue": None, "stringListValues": [], "binaryListValues": [], "dataType": "String"}}
    assert set(record["attributes"]) == {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"}


def test_sqs_to_lambda_with_partial_failures_and_redrive(worker) -> None:
    function = function_create(name="consumer", config=FunctionConfig(runtime="python3.11", handler="app.handler"), code=Code(files={"app.py": HANDLER}))
    dlq = services.queue_create(name="consumer-dlq")
    queue = services.queue_create(name="work", attributes={"VisibilityTimeout": "3",
                                                           "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})})
    mapping = mappings.mapping_create(function=function, qualifier="", source_arn=queue.arn,
                                      data=mappings.MappingInput(batch_size=100, batching_window_s=1, function_response_types=["ReportBatchItemFailures"]))
    until(lambda: EventSourceMapping.objects.get(pk=mapping.pk).state == MappingState.ENABLED, 10)
    sent = {_send(queue, f"ok {i}") for i in range(150)}
    poison = _send(queue, "fail me")
    # the good messages are deleted; the failed one comes back after 3 s and moves to the DLQ on its next receive
    until(lambda: not Message.objects.filter(queue=queue).exists() and Message.objects.filter(queue=dlq).exists())
    assert list(Message.objects.filter(queue=dlq).values_list("message_id", flat=True)) == [poison]
    runs = list(Invocation.objects.filter(trigger=Trigger.QUEUE).order_by("queued_at"))
    assert runs and all(r.status in FINAL_STATUSES for r in runs)
    assert all(r.status == InvocationStatus.SUCCEEDED for r in runs), [r.logs for r in runs]
    delivered = [i for r in runs for i in json.loads(r.result)["ids"]]
    assert set(delivered) == sent | {poison} and len(delivered) == len(sent) + 1  # nothing lost, nothing twice
    assert max(len(json.loads(r.result)["ids"]) for r in runs) > 10  # batched beyond one receive
    event = json.loads(runs[0].payload)["Records"][0]
    assert event["eventSource"] == "aws:sqs" and event["eventSourceARN"] == queue.arn and event["md5OfBody"]
    assert runs[0].trigger_detail["event_source_mapping"] == str(mapping.uuid)
    assert EventSourceMapping.objects.get(pk=mapping.pk).last_processing_result.startswith("OK")
    assert queue_counts(queue) == {"visible": 0, "not_visible": 0, "delayed": 0}
    # idle: a later send wakes the poller again
    late = _send(queue, "late")
    until(lambda: not Message.objects.filter(message_id=late).exists(), 30)


def test_the_queue_visibility_timeout_must_cover_the_function_timeout(db: None) -> None:
    from core.errors import ValidationFailed

    function = function_create(name="slow", config=FunctionConfig(runtime="python3.11", handler="app.handler", timeout=60), code=Code(files={"app.py": HANDLER}))
    short = services.queue_create(name="short-vis")
    with pytest.raises(ValidationFailed) as refused:
        mappings.mapping_create(function=function, qualifier="", source_arn=short.arn, data=mappings.MappingInput())
    assert "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds" in refused.value.message
    with pytest.raises(ValidationFailed):
        mappings.mapping_create(function=function, qualifier="", source_arn="arn:aws:sqs:us-east-1:000000000000:missing", data=mappings.MappingInput())
    enough = services.queue_create(name="long-vis", attributes={"VisibilityTimeout": "60"})
    assert mappings.mapping_create(function=function, qualifier="", source_arn=enough.arn, data=mappings.MappingInput()).kind == "sqs"


ECHO = "def handler(event, context):\n    return event\n"


def test_filter_criteria_pass_only_matching_messages_and_delete_the_rest(worker) -> None:
    from aws_lambda_powertools.utilities.parser.models import SqsModel

    function = function_create(name="orders-only", config=FunctionConfig(runtime="python3.11", handler="app.handler"), code=Code(files={"app.py": ECHO}))
    queue = services.queue_create(name="mixed")
    pattern = json.dumps({"body": {"kind": ["order"], "total": [{"numeric": [">", 10]}]}})
    mapping = mappings.mapping_create(function=function, qualifier="", source_arn=queue.arn,
                                      data=mappings.MappingInput(batch_size=10, batching_window_s=1, filter_criteria={"Filters": [{"Pattern": pattern}]}))
    until(lambda: EventSourceMapping.objects.get(pk=mapping.pk).state == MappingState.ENABLED, 10)
    wanted = _send(queue, json.dumps({"kind": "order", "total": 12}))
    for body in (json.dumps({"kind": "order", "total": 5}), json.dumps({"kind": "refund", "total": 50}), "not json at all"):
        _send(queue, body)
    until(lambda: not Message.objects.filter(queue=queue).exists())
    runs = list(Invocation.objects.filter(trigger=Trigger.QUEUE, function_name="orders-only", status__in=FINAL_STATUSES))
    delivered = [record["messageId"] for run in runs for record in json.loads(run.payload)["Records"]]
    assert delivered == [wanted]  # the three others were deleted without a run
    assert runs[0].status == InvocationStatus.SUCCEEDED
    SqsModel.model_validate(json.loads(runs[0].result))  # the event as powertools' parser models it


def test_filter_criteria_are_validated_like_lambda(db: None) -> None:
    from core.errors import ValidationFailed

    function = function_create(name="filtered", config=FunctionConfig(runtime="python3.11", handler="app.handler"), code=Code(files={"app.py": ECHO}))
    queue = services.queue_create(name="checked")
    for bad in ('{"body": {"kind": "order"}}', '{"body": {"n": [{"numeric": [">"]}]}}', "[1]", "{" * 3):
        with pytest.raises(ValidationFailed) as refused:
            mappings.mapping_create(function=function, qualifier="", source_arn=queue.arn,
                                    data=mappings.MappingInput(filter_criteria={"Filters": [{"Pattern": bad}]}))
        assert "Invalid filter pattern definition" in refused.value.message
    edge = json.dumps({"body": {"k": ["x"]}})
    edge = edge.replace('"x"', '"' + "x" * (4096 - len(edge) + 1) + '"')
    assert len(edge) == 4096
    mappings.filter_criteria_check({"Filters": [{"Pattern": edge}]})  # exactly at the limit: accepted
    too_long = json.dumps({"body": {"k": ["x" * 4100]}})
    with pytest.raises(ValidationFailed):
        mappings.mapping_create(function=function, qualifier="", source_arn=queue.arn, data=mappings.MappingInput(filter_criteria={"Filters": [{"Pattern": too_long}]}))
    six = {"Filters": [{"Pattern": '{"body": {"k": ["v"]}}'}] * 6}
    with pytest.raises(ValidationFailed):
        mappings.mapping_create(function=function, qualifier="", source_arn=queue.arn, data=mappings.MappingInput(filter_criteria=six))
    five = {"Filters": [{"Pattern": '{"body": {"k": ["v"]}}'}] * 5}
    assert mappings.mapping_create(function=function, qualifier="", source_arn=queue.arn, data=mappings.MappingInput(filter_criteria=five)).filter_criteria == five


COUNT = "def handler(event, context):\n    return [r['messageId'] for r in event['Records']]\n"


def test_ten_thousand_messages_drain_through_a_mapping_with_none_lost_or_duplicated(worker) -> None:
    function = function_create(name="drain", config=FunctionConfig(runtime="python3.11", handler="app.handler", timeout=60),
                               code=Code(files={"app.py": COUNT}))
    queue = services.queue_create(name="bulk", attributes={"VisibilityTimeout": "120"})
    outgoing = messages.message_validate(queue=queue, body="m")
    sent = {messages.message_send(queue=queue, outgoing=outgoing).message_id for _ in range(10_000)}
    assert len(sent) == 10_000 and queue_counts(queue)["visible"] == 10_000
    mapping = mappings.mapping_create(function=function, qualifier="", source_arn=queue.arn, data=mappings.MappingInput(batch_size=1000, batching_window_s=1))
    until(lambda: not Message.objects.filter(queue=queue).exists(), 240)
    runs = list(Invocation.objects.filter(trigger=Trigger.QUEUE, function_name="drain"))
    assert all(run.status == InvocationStatus.SUCCEEDED for run in runs)
    delivered = [message_id for run in runs for message_id in json.loads(run.result)]
    assert len(delivered) == 10_000 and set(delivered) == sent  # each exactly once
    assert EventSourceMapping.objects.get(pk=mapping.pk).last_processing_result == "OK"


SLOW = "import time\n\ndef handler(event, context):\n    time.sleep(1.0)\n    return len(event['Records'])\n"


def _most_at_once(runs: list[Invocation]) -> int:
    moments = sorted([(run.started_at, 1) for run in runs] + [(run.finished_at, -1) for run in runs], key=lambda m: (m[0], m[1]))
    running = most = 0
    for _, step in moments:
        running += step
        most = max(most, running)
    return most


def test_full_batches_scale_out_to_maximum_concurrency_and_no_further(worker, settings) -> None:
    assert settings.KILN_SQS_POLLERS_MAX == 2  # the worker's setting: at most two pollers at once
    function = function_create(name="slow-consumer", config=FunctionConfig(runtime="python3.11", handler="app.handler", timeout=30),
                               code=Code(files={"app.py": SLOW}))
    queue = services.queue_create(name="deep", attributes={"VisibilityTimeout": "60"})
    for i in range(8):
        _send(queue, f"m{i}")
    mapping = mappings.mapping_create(function=function, qualifier="", source_arn=queue.arn,
                                      data=mappings.MappingInput(batch_size=1, maximum_concurrency=2))
    until(lambda: not Message.objects.filter(queue=queue).exists(), 60)
    runs = list(Invocation.objects.filter(trigger=Trigger.QUEUE, function_name="slow-consumer", status=InvocationStatus.SUCCEEDED))
    assert len(runs) == 8 and sum(int(run.result) for run in runs) == 8
    assert _most_at_once(runs) == 2  # two batches ran side by side, never three
    assert EventSourceMapping.objects.get(pk=mapping.pk).last_processing_result == "OK"


def test_a_poll_whose_worker_died_does_not_block_the_mapping(worker) -> None:
    """Issue 15 (found by make chaos): a worker SIGKILLed while it polled left the mapping's lock (and a poller slot)
    held for ``LOCK_S`` (16.5 min), so the sweep skipped the mapping and its messages waited. A lock naming a worker
    without a heartbeat is now taken over; one naming a live worker is still respected."""
    from events.sqs import _lock_key, _pending_key, sqs_sweep
    from invoker.redis_client import get_redis
    from invoker.workers import WORKER_NAME

    function = function_create(name="after-dead-poller", config=FunctionConfig(runtime="python3.11", handler="app.handler"), code=Code(files={"app.py": ECHO}))
    queue = services.queue_create(name="dead-poller")
    mapping = mappings.mapping_create(function=function, qualifier="", source_arn=queue.arn, data=mappings.MappingInput(batch_size=10))
    until(lambda: EventSourceMapping.objects.get(pk=mapping.pk).state == MappingState.ENABLED, 10)
    redis = get_redis()
    # The mapping's first poll (started by its creation) must be over before the test writes its lock: one still
    # gathering would take the message sent below, and its release would leave the lock the test wrote (seen in CI).
    until(lambda: not redis.exists(_lock_key(mapping.pk), _pending_key(mapping.pk)), 10)
    redis.set(f"kiln:worker:{WORKER_NAME}", "{}", ex=60)  # this process counts as a live worker for the first half
    try:
        redis.set(_lock_key(mapping.pk), WORKER_NAME, ex=900)  # a live poller holds the lock
        for slot in range(8):
            redis.set(f"kiln:esm:slot:{slot}", "gone-host:1", ex=900)  # every slot held by a worker that is gone
        _send(queue, "while a live poller holds the lock")
        assert sqs_sweep() == 0  # a live holder is respected
        redis.set(_lock_key(mapping.pk), "gone-host:1", ex=900)  # ... now its worker is gone (SIGKILLed: no heartbeat)
        polled = sqs_sweep()
        # The sweep sends a poll that takes the lock over, unless the send's own poll (woken above) already took it
        # over in the worker in the meantime (and may have finished and freed it): either way the lock no longer blocks it.
        holder = redis.get(_lock_key(mapping.pk))
        assert polled == 1 or holder != b"gone-host:1", (polled, holder)
        until(lambda: not Message.objects.filter(queue=queue).exists(), 30)  # delivered and deleted: lock and a slot taken over
    finally:
        redis.delete(f"kiln:worker:{WORKER_NAME}", _lock_key(mapping.pk), *[f"kiln:esm:slot:{slot}" for slot in range(8)])
    run = Invocation.objects.get(trigger=Trigger.QUEUE, function_name="after-dead-poller")
    assert json.loads(run.payload)["Records"][0]["body"] == "while a live poller holds the lock"


def _idle_mapping_held_by(name: str, holder: str):
    """An enabled mapping on a queue (visibility 600 s) with no poll running, its lock held by ``holder``, a worker that
    beats for now (the test deletes its heartbeat to play its SIGKILL)."""
    from events.sqs import _lock_key, _pending_key
    from invoker.redis_client import get_redis

    function = function_create(name=name, config=FunctionConfig(runtime="python3.11", handler="app.handler"), code=Code(files={"app.py": ECHO}))
    queue = services.queue_create(name=name, attributes={"VisibilityTimeout": "600"})
    mapping = mappings.mapping_create(function=function, qualifier="", source_arn=queue.arn, data=mappings.MappingInput(batch_size=10))
    until(lambda: EventSourceMapping.objects.get(pk=mapping.pk).state == MappingState.ENABLED, 10)
    redis = get_redis()
    until(lambda: not redis.exists(_lock_key(mapping.pk), _pending_key(mapping.pk)), 10)
    redis.set(f"kiln:worker:{holder}", "{}", ex=60)
    redis.set(_lock_key(mapping.pk), holder, ex=900)
    return function, queue, mapping, redis


def test_a_batch_whose_polls_worker_died_is_settled_by_the_next_poll_not_after_the_visibility_timeout(worker) -> None:
    """Issue 15 (found by make chaos): a worker SIGKILLed while its poll waited for a batch's invocation left the
    batch's messages invisible for the queue's visibility timeout (6 min), and they then ran a second time. The batch
    in flight is recorded; the mapping's next poll (the sweep sends one) deletes it once the invocation is final."""
    import time

    from events.sqs import _inflight_key, _lock_key, sqs_sweep
    from invoker.submit import invocation_submit

    # The dead poll: it holds the lock (its worker still beating), receives the batch and submits its invocation, notes
    # it in flight, and dies while it waits (nothing after that runs, its heartbeat stops).
    function, queue, mapping, redis = _idle_mapping_held_by("orphan-batch", "dying-host:1")
    try:
        sent = {_send(queue, f"in flight {i}") for i in range(3)}
        batch = messages.message_receive(queue=queue, max_messages=10, wait_seconds=0)
        assert {item.message.message_id for item in batch} == sent
        invocation = invocation_submit(function=function, payload=json.dumps({"Records": [sqs_record(item, queue) for item in batch]}).encode(),
                                       trigger=Trigger.QUEUE, trigger_detail={"event_source_mapping": str(mapping.uuid), "queue": queue.arn})
        redis.hset(_inflight_key(mapping.pk), "batch1", json.dumps({"worker": "dying-host:1", "at": time.time(), "invocation": str(invocation.id),
                                                                    "handles": {item.message.message_id: item.receipt_handle for item in batch}}))
        assert sqs_sweep() == 0  # its poll's worker still beats: nothing to settle yet
    finally:
        redis.delete("kiln:worker:dying-host:1")  # ... SIGKILLed
    until(lambda: Invocation.objects.get(pk=invocation.pk).is_final, 30)
    assert sqs_sweep() == 1  # a batch in flight that no live poll waits for
    until(lambda: not Message.objects.filter(queue=queue).exists(), 30)  # deleted, not invisible for 600 s
    until(lambda: not redis.exists(_inflight_key(mapping.pk)), 10)  # the poll forgets the note after it deletes the messages
    assert Invocation.objects.filter(function_name="orphan-batch").count() == 1  # and never delivered again
    assert EventSourceMapping.objects.get(pk=mapping.pk).last_processing_result == "OK"
    redis.delete(_lock_key(mapping.pk))


def test_a_batch_received_by_a_poll_that_died_before_delivering_it_is_made_visible_again(worker) -> None:
    """Found by make chaos: a poll SIGKILLed right after its receive (before its invocation, so before the record of
    its handles) left 10 messages invisible for 6 minutes. The batch is noted before its first receive, its receipt
    tokens start with the batch's id, and the next poll makes them visible again; they are then delivered once."""
    import time

    from events.sqs import _inflight_key, _lock_key, sqs_sweep

    _, queue, mapping, redis = _idle_mapping_held_by("orphan-received", "dying-host:2")
    try:
        redis.hset(_inflight_key(mapping.pk), "a1b2c3d4e5f6", json.dumps({"worker": "dying-host:2", "at": time.time()}))
        sent = {_send(queue, f"received {i}") for i in range(4)}
        taken = messages.message_receive(queue=queue, max_messages=10, wait_seconds=0, token_prefix="a1b2c3d4e5f6")
        assert {item.message.message_id for item in taken} == sent
        assert queue_counts(queue)["not_visible"] == 4
    finally:
        redis.delete("kiln:worker:dying-host:2")  # ... SIGKILLed before it submitted the batch
    assert sqs_sweep() == 1
    until(lambda: not Message.objects.filter(queue=queue).exists(), 30)  # visible again, delivered, deleted: not after 600 s
    runs = Invocation.objects.filter(function_name="orphan-received")
    assert sorted(r["body"] for run in runs for r in json.loads(run.payload)["Records"]) == sorted(f"received {i}" for i in range(4))  # each once
    until(lambda: not redis.exists(_inflight_key(mapping.pk)), 10)  # the poll forgets the note after it deletes the messages
    redis.delete(_lock_key(mapping.pk))


def test_a_receive_token_prefix_is_bounded_and_release_needs_one(db: None) -> None:
    queue = services.queue_create(name="prefix-limits")
    with pytest.raises(ValueError):
        messages.message_receive(queue=queue, wait_seconds=0, token_prefix="x" * (messages.TOKEN_PREFIX_MAX + 1))
    assert messages.message_receive(queue=queue, wait_seconds=0, token_prefix="x" * messages.TOKEN_PREFIX_MAX) == []
    with pytest.raises(ValueError):
        messages.messages_release_received(queue=queue, token_prefix="")


def test_a_mappings_batch_does_not_wait_behind_a_backlog_of_events(worker) -> None:
    """Found by the 10,000-invocation chaos run: an SQS mapping's synchronous invocations waited in the broker's
    ``invoke`` queue behind every asynchronous event (20 of 500 messages in two minutes). They have a queue of their
    own (``invoke-sync``), which the worker takes from in turn with the others."""
    from invoker.submit import invocation_submit

    sleeper = function_create(name="backlogged", config=FunctionConfig(runtime="python3.11", handler="app.handler"),
                              code=Code(files={"app.py": "import time\n\ndef handler(event, context):\n    time.sleep(1)\n    return 'slept'\n"}))
    for _ in range(60):  # ten seconds of work for six threads, queued before the message is sent
        invocation_submit(function=sleeper, payload=b"{}", invocation_type="Event", trigger=Trigger.API)
    function = function_create(name="behind-backlog", config=FunctionConfig(runtime="python3.11", handler="app.handler"), code=Code(files={"app.py": ECHO}))
    queue = services.queue_create(name="behind-backlog")
    mapping = mappings.mapping_create(function=function, qualifier="", source_arn=queue.arn, data=mappings.MappingInput(batch_size=10))
    until(lambda: EventSourceMapping.objects.get(pk=mapping.pk).state == MappingState.ENABLED, 10)
    _send(queue, "ahead of the backlog")
    until(lambda: Invocation.objects.filter(function=function, trigger=Trigger.QUEUE, status=InvocationStatus.SUCCEEDED).exists(), 20)
    waiting = Invocation.objects.filter(function=sleeper, status=InvocationStatus.QUEUED).count()
    assert waiting >= 20, f"the batch ran only after the backlog: {waiting} events still queued"
    until(lambda: not Invocation.objects.filter(function=sleeper).exclude(status__in=FINAL_STATUSES).exists(), 60)  # drained before the tables are emptied


def _poll_in_this_process_with(monkeypatch, name: str, target: str):
    """A mapping's poll run here (not by the worker), whose call of ``target`` (a name in events.sqs) fails once, as
    when Redis goes away; the lock is held by a stand-in worker until the messages are sent, so the worker's own polls stay away."""
    import time

    from events import sqs
    from events.sqs import _lock_key

    function, queue, mapping, redis = _idle_mapping_held_by(name, "stand-in-host:3")
    sent = {_send(queue, f"{name} {i}") for i in range(3)}
    time.sleep(1)  # the polls the sends woke find the lock held and stop
    real = getattr(sqs, target)

    def fail_once(*args, **kwargs):
        monkeypatch.setattr(sqs, target, real)
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(sqs, target, fail_once)
    redis.delete("kiln:worker:stand-in-host:3")  # the stand-in is gone: this poll takes the lock over
    assert sqs.sqs_poll(str(mapping.pk)) == 0
    assert redis.get(_lock_key(mapping.pk)) != b"stand-in-host:3"
    return function, queue, mapping, redis, sent


def test_a_batch_that_failed_before_its_invocation_is_visible_again_at_once(worker, monkeypatch) -> None:
    """Found by make chaos: Redis went away under a poll holding a batch (between its receive and its invocation); the
    poll task failed, and the 10 messages stayed invisible for the visibility timeout (6 min). They are made visible
    again as the poll gives up, and delivered once."""
    from events.sqs import _inflight_key

    _, queue, mapping, redis, sent = _poll_in_this_process_with(monkeypatch, "undelivered", "invocation_submit")
    assert not Invocation.objects.filter(function_name="undelivered").exists()
    assert queue_counts(queue)["not_visible"] in (0, 3)  # visible again (a worker's poll may have taken them since)
    until(lambda: not Message.objects.filter(queue=queue).exists(), 30)  # delivered and deleted, not after 600 s
    runs = Invocation.objects.filter(function_name="undelivered")
    assert sorted(r["messageId"] for run in runs for r in json.loads(run.payload)["Records"]) == sorted(sent)  # each once
    # The worker's poll deletes the messages before it forgets its batch's note, and notes each next batch (an empty
    # one here) before its receive: the note goes within moments, and one left behind fails this wait.
    until(lambda: not redis.exists(_inflight_key(mapping.pk)), 10)


def test_a_batch_whose_wait_failed_is_settled_by_the_next_poll(worker, monkeypatch) -> None:
    """The poll submitted the batch's invocation and then lost its wait: the invocation runs, so the batch is not made
    visible (it would run twice); its note names no worker any more, and the next poll settles it once it is final,
    without waiting for this worker's heartbeat to stop."""
    from events.sqs import _inflight_key, sqs_sweep

    _, queue, mapping, redis, sent = _poll_in_this_process_with(monkeypatch, "unwaited", "invocation_wait")
    run = Invocation.objects.get(function_name="unwaited")
    assert queue_counts(queue)["not_visible"] == 3
    note = json.loads(next(iter(redis.hgetall(_inflight_key(mapping.pk)).values())))
    assert note["worker"] == "" and note["invocation"] == str(run.pk)
    until(lambda: Invocation.objects.get(pk=run.pk).is_final, 30)
    sqs_sweep()
    until(lambda: not Message.objects.filter(queue=queue).exists(), 30)
    assert Invocation.objects.filter(function_name="unwaited").count() == 1  # never delivered again
    assert sorted(r["messageId"] for r in json.loads(run.payload)["Records"]) == sorted(sent)
    until(lambda: not redis.exists(_inflight_key(mapping.pk)), 10)


def test_a_batch_still_running_when_its_wait_ends_is_settled_by_a_later_poll(worker, monkeypatch) -> None:
    """Found by make chaos: a batch's invocation whose message was lost in a Redis crash ran 80 s later, after its
    poll's wait had ended; the poll settled it as failed, and its messages waited out the visibility timeout (6 min)
    to run again. The poll now hands such a batch to the next poll, which deletes it once the invocation succeeded."""
    import time

    from events import sqs
    from events.sqs import _inflight_key, sqs_sweep

    _, queue, mapping, redis = _idle_mapping_held_by("outwaited", "stand-in-host:4")
    sent = {_send(queue, f"outwaited {i}") for i in range(3)}
    time.sleep(1)  # the polls the sends woke find the lock held and stop
    monkeypatch.setattr(sqs, "sync_wait_seconds", lambda revision: 0.0)  # the wait ends before any worker could run it
    redis.delete("kiln:worker:stand-in-host:4")
    assert sqs.sqs_poll(str(mapping.pk)) == 3
    run = Invocation.objects.get(function_name="outwaited")
    for raw in redis.hvals(_inflight_key(mapping.pk)):  # unless a worker's poll has settled it already
        note = json.loads(raw)
        assert note["worker"] == "" and note["invocation"] == str(run.pk) and set(note["handles"]) == sent
    until(lambda: Invocation.objects.get(pk=run.pk).status == InvocationStatus.SUCCEEDED, 30)
    sqs_sweep()
    until(lambda: not Message.objects.filter(queue=queue).exists(), 30)  # deleted: not back after 600 s
    assert Invocation.objects.filter(function_name="outwaited").count() == 1
    until(lambda: not redis.exists(_inflight_key(mapping.pk)), 10)
    assert EventSourceMapping.objects.get(pk=mapping.pk).last_processing_result == "OK"
