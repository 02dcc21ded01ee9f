"""DynamoDB Streams → Lambda: the ``dynamodb`` source kind's settings, Lambda's event and on-failure record (checked
against aws-lambda-powertools' models), and end to end with a real worker: records in order and once, partial
batch failures checkpointing at the lowest failed sequence, bisection, retries then the SQS on-failure queue."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel
from aws_lambda_powertools.utilities.parser.models.dynamodb import DynamoDBStreamLambdaOnFailureDestinationModel

from core import events as bus
from core.errors import ValidationFailed
from events import dynamodb, mappings
from events.models import EventSourceMapping, MappingState, StreamCheckpoint
from functions.services import Code, FunctionConfig, function_create
from invoker.models import Invocation, InvocationStatus, Trigger
from queues import services as queue_services
from queues.models import Message
from tables import streams
from tables.domain import StreamRecordsWritten
from tests.aws.conftest import endpoint, make_client, root, root_key  # noqa: F401 - real boto3 clients against a live Kiln
from tests.tables.test_streams import LABEL, make_table, write
from tests.waiting import until

pytestmark = pytest.mark.django_db(transaction=True)

ARN = streams.stream_arn("Music", LABEL)
RECORDER = (
    "def handler(event, context):\n"
    "    return {'seen': [[r['eventName'], r['dynamodb']['Keys']['id']['S'], r['dynamodb']['SequenceNumber']] for r in event['Records']]}\n"
)
REPORTER = (
    "def handler(event, context):\n"
    "    bad = [{'itemIdentifier': r['dynamodb']['SequenceNumber']} for r in event['Records'] if r['dynamodb']['Keys']['id']['S'].startswith('bad')]\n"
    "    return {'batchItemFailures': bad}\n"
)
RAISER = (
    "def handler(event, context):\n"
    "    if any(r['dynamodb']['Keys']['id']['S'].startswith('bad') for r in event['Records']):\n"
    "        raise ValueError('bad record')\n"
    "    return None\n"
)


def _function(name: str, code: str) -> Any:
    return function_create(name=name, config=FunctionConfig(runtime="python3.11", handler="app.handler"), code=Code(files={"app.py": code}))



def _written(table: Any) -> None:
    bus.publish(StreamRecordsWritten(table_id=table.pk, stream_arn=ARN))


def _mapping(function: Any, **data: Any) -> EventSourceMapping:
    options = data.pop("options", None)
    mapping = mappings.mapping_create(function=function, qualifier="", source_arn=ARN, starting_position=data.pop("starting_position", "TRIM_HORIZON"),
                                      data=mappings.MappingInput(options=options, **data))
    until(lambda: EventSourceMapping.objects.get(pk=mapping.pk).state == MappingState.ENABLED, 15)
    return mapping


def _batches(function: Any) -> list[list[str]]:
    """The keys of each batch the function was invoked with, in order."""
    runs = Invocation.objects.filter(function=function, trigger=Trigger.STREAM).order_by("queued_at")
    return [[r["dynamodb"]["Keys"]["id"]["S"] for r in json.loads(run.payload)["Records"]] for run in runs]


def _caught_up(mapping: EventSourceMapping, table: Any) -> bool:
    table.refresh_from_db()
    return all(c.after >= table.stream_sequence for c in StreamCheckpoint.objects.filter(mapping=mapping))


def test_settings_are_checked_as_lambda_checks_them() -> None:
    function = _function("settings", RECORDER)
    make_table("Music")
    for options in ({"ParallelizationFactor": 11}, {"ParallelizationFactor": 0}, {"MaximumRetryAttempts": 10_001}, {"MaximumRetryAttempts": -2},
                    {"MaximumRecordAgeInSeconds": 59}, {"MaximumRecordAgeInSeconds": 604_801}, {"TumblingWindowInSeconds": 60},
                    {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:missing"}}}):
        with pytest.raises(ValidationFailed):
            mappings.mapping_create(function=function, qualifier="", source_arn=ARN, starting_position="LATEST", data=mappings.MappingInput(options=options))
    for position in ("", "AT_TIMESTAMP"):
        with pytest.raises(ValidationFailed, match="TRIM_HORIZON or LATEST"):
            mappings.mapping_create(function=function, qualifier="", source_arn=ARN, starting_position=position, data=mappings.MappingInput())
    with pytest.raises(ValidationFailed, match="BatchSize must be between 1 and 10000"):
        mappings.mapping_create(function=function, qualifier="", source_arn=ARN, starting_position="LATEST", data=mappings.MappingInput(batch_size=10_001))
    with pytest.raises(ValidationFailed, match="Stream not found"):
        mappings.mapping_create(function=function, qualifier="", source_arn=streams.stream_arn("Music", "2020-01-01T00:00:00.000"),
                                starting_position="LATEST", data=mappings.MappingInput())
    queue = queue_services.queue_create(name="failures")
    edge = {"ParallelizationFactor": 10, "MaximumRetryAttempts": 10_000, "MaximumRecordAgeInSeconds": 604_800, "BisectBatchOnFunctionError": True,
            "DestinationConfig": {"OnFailure": {"Destination": queue.arn}}}
    mapping = mappings.mapping_create(function=function, qualifier="", source_arn=ARN, starting_position="LATEST",
                                      data=mappings.MappingInput(batch_size=10_000, batching_window_s=300, options=edge))
    assert mapping.kind == "dynamodb" and mapping.batch_size == 10_000 and mapping.options["ParallelizationFactor"] == 10


def test_filter_patterns_match_as_lambdas_do() -> None:
    from core.patterns import pattern_compile
    from events.mappings import filter_criteria_check, record_passes

    record = {"eventName": "MODIFY", "dynamodb": {"Keys": {"id": {"S": "user#1"}}, "NewImage": {"n": {"N": "5"}, "ok": {"BOOL": True}}, "SizeBytes": 30}}

    def passes(*patterns: dict[str, Any]) -> bool:
        filter_criteria_check({"Filters": [{"Pattern": json.dumps(p)} for p in patterns]})
        return record_passes([pattern_compile(json.dumps(p), dialect="lambda_filter") for p in patterns], record)

    assert passes() and passes({"eventName": ["MODIFY"]}) and not passes({"eventName": ["INSERT"]})
    assert passes({"eventName": ["INSERT"]}, {"eventName": ["MODIFY"]})  # filters are ORed
    assert passes({"dynamodb": {"Keys": {"id": {"S": [{"prefix": "user#"}]}}}}) and not passes({"dynamodb": {"Keys": {"id": {"S": [{"suffix": "#2"}]}}}})
    assert passes({"dynamodb": {"NewImage": {"ok": {"BOOL": [True]}}}}) and not passes({"dynamodb": {"NewImage": {"ok": {"BOOL": [False]}}}})
    assert passes({"dynamodb": {"SizeBytes": [{"numeric": [">", 10, "<=", 30]}]}}) and not passes({"dynamodb": {"SizeBytes": [{"numeric": [">", 30]}]}})
    assert passes({"dynamodb": {"OldImage": [{"exists": False}]}}) and not passes({"dynamodb": {"NewImage": {"gone": {"S": [{"exists": True}]}}}})
    assert passes({"eventName": [{"anything-but": ["REMOVE", "INSERT"]}]}) and not passes({"eventName": [{"anything-but": {"prefix": "MOD"}}]})
    assert passes({"eventName": [{"equals-ignore-case": "modify"}], "dynamodb": {"NewImage": {"n": {"N": ["5"]}}}})  # keys ANDed
    for bad in ("not json", json.dumps(["a"]), json.dumps({"eventName": "INSERT"}), json.dumps({"eventName": [{"numeric": ["~", 1]}]}),
                json.dumps({"eventName": [{"wat": 1}]}), "x" * 4097):
        with pytest.raises(ValidationFailed, match="Invalid filter pattern definition"):
            filter_criteria_check({"Filters": [{"Pattern": bad}]})


def test_filtered_records_are_dropped_from_batches() -> None:
    function = _function("filtered", RECORDER)
    table = make_table("Music")
    for key in ("keep1", "drop1", "keep2", "drop2"):
        write(table, "INSERT", key, new={"id": {"S": key}})
    mapping = EventSourceMapping.objects.create(function=function, event_source_arn=ARN, kind="dynamodb", state=MappingState.DISABLED,
                                                filter_criteria={"Filters": [{"Pattern": json.dumps({"dynamodb": {"Keys": {"id": {"S": [{"prefix": "keep"}]}}}})}]})
    checkpoint = StreamCheckpoint.objects.create(mapping=mapping)
    from tables.models import StreamRecord

    batch, scanned = dynamodb._batch(streams.stream_get(ARN), checkpoint, 10, dynamodb.mapping_filters(mapping))
    assert [r.keys["id"]["S"] for r in batch] == ["keep1", "keep2"] and scanned == StreamRecord.objects.order_by("sequence").last().sequence
    batch, scanned = dynamodb._batch(streams.stream_get(ARN), checkpoint, 1, dynamodb.mapping_filters(mapping))
    assert [r.keys["id"]["S"] for r in batch] == ["keep1"] and scanned == batch[0].sequence


def test_a_new_parallelization_factor_recuts_the_partitions_at_the_slowest() -> None:
    function = _function("recut", RECORDER)
    make_table("Music")
    mapping = EventSourceMapping.objects.create(function=function, event_source_arn=ARN, kind="dynamodb", state=MappingState.UPDATING,
                                                starting_position="LATEST", options={"ParallelizationFactor": 3})
    StreamCheckpoint.objects.bulk_create([StreamCheckpoint(mapping=mapping, partition=0, partitions=2, after=5),
                                          StreamCheckpoint(mapping=mapping, partition=1, partitions=2, after=3)])
    dynamodb._start(mapping)
    assert sorted(StreamCheckpoint.objects.filter(mapping=mapping).values_list("partition", "partitions", "after")) == [(0, 3, 3), (1, 3, 3), (2, 3, 3)]
    dynamodb._start(mapping)  # settled again: kept
    assert StreamCheckpoint.objects.filter(mapping=mapping, after=3).count() == 3


def test_records_older_than_the_maximum_age_go_to_the_destination_unsent() -> None:
    import datetime

    from django.utils import timezone

    function = _function("aged", RECORDER)
    table = make_table("Music")
    queue = queue_services.queue_create(name="aged-failures")
    old = [write(table, "INSERT", f"old{i}", new={"id": {"S": f"old{i}"}}, created_at=timezone.now() - datetime.timedelta(minutes=5)) for i in range(2)]
    fresh = write(table, "INSERT", "fresh", new={"id": {"S": "fresh"}})
    mapping = EventSourceMapping.objects.create(function=function, event_source_arn=ARN, kind="dynamodb", state=MappingState.DISABLED,
                                                options={"MaximumRecordAgeInSeconds": 60, "DestinationConfig": {"OnFailure": {"Destination": queue.arn}}})
    checkpoint = StreamCheckpoint.objects.create(mapping=mapping)
    assert dynamodb._step(mapping, streams.stream_get(ARN), checkpoint) is None  # no invoke: passed at once
    assert StreamCheckpoint.objects.get(pk=checkpoint.pk).after == old[-1].sequence < fresh.sequence
    assert not Invocation.objects.filter(function=function).exists()
    (message,) = Message.objects.filter(queue=queue)
    failure = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate_json(message.body)
    assert failure.request_context.condition == "RecordAgeExceeded" and failure.ddb_stream_batch_info.batch_size == 2


def test_the_console_shows_mappings_and_their_partitions(owner: Any) -> None:
    from django.test import Client

    function = _function("shown", RECORDER)
    make_table("Music")
    mapping = EventSourceMapping.objects.create(function=function, event_source_arn=ARN, kind="dynamodb", state=MappingState.ENABLED)
    StreamCheckpoint.objects.create(mapping=mapping, after=42)
    console = Client()
    console.force_login(owner)
    listing = console.get("/console/events/eventsourcemapping/")
    assert listing.status_code == 200 and ARN.encode() in listing.content
    page = console.get(f"/console/events/eventsourcemapping/{mapping.pk}/change/")
    assert page.status_code == 200 and b"Stream partitions" in page.content and b"42" in page.content


def test_the_sweep_polls_only_partitions_behind() -> None:
    function = _function("swept", RECORDER)
    table = make_table("Music")
    mapping = EventSourceMapping.objects.create(function=function, event_source_arn=ARN, kind="dynamodb", state=MappingState.ENABLED)
    checkpoint = StreamCheckpoint.objects.create(mapping=mapping)
    assert dynamodb.dynamodb_sweep() == 0
    record = write(table, "INSERT", "a", new={"id": {"S": "a"}})  # written, its wake-up lost
    assert dynamodb.dynamodb_sweep() == 1
    StreamCheckpoint.objects.filter(pk=checkpoint.pk).update(after=record.sequence)
    assert dynamodb.dynamodb_sweep() == 0


def test_the_event_and_the_on_failure_record_are_lambdas() -> None:
    function = _function("shapes", RECORDER)
    table = make_table("Music")
    records = [write(table, "INSERT", "a", new={"id": {"S": "a"}}), write(table, "MODIFY", "a", new={"id": {"S": "a"}, "n": {"N": "2"}}, old={"id": {"S": "a"}}),
               write(table, "REMOVE", "a", old={"id": {"S": "a"}, "n": {"N": "2"}}, identity=streams.TTL_IDENTITY)]
    stream = streams.stream_get(ARN)
    event = dynamodb.dynamodb_event(records, stream)
    parsed = DynamoDBStreamModel.model_validate(event)
    assert [r.eventName for r in parsed.Records] == ["INSERT", "MODIFY", "REMOVE"] and parsed.Records[0].eventSourceARN == ARN
    assert parsed.Records[1].dynamodb.NewImage == {"id": "a", "n": 2} and parsed.Records[2].userIdentity is not None
    mapping = EventSourceMapping(function=function, event_source_arn=ARN, kind="dynamodb")
    record = dynamodb.on_failure_record(mapping=mapping, stream=stream, batch=records, condition="RetryAttemptsExhausted", invocation=None, attempts=3)
    checked = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(record)
    assert checked.ddb_stream_batch_info.batch_size == 3 and checked.ddb_stream_batch_info.shard_id == stream.shard_id
    assert checked.ddb_stream_batch_info.start_sequence_number == streams.sequence_wire(records[0].sequence)
    assert checked.request_context.condition == "RetryAttemptsExhausted" and checked.request_context.approximate_invoke_count == 3
    assert {dynamodb.partition_of({"id": {"S": f"k{i}"}}, 4) for i in range(40)} == {0, 1, 2, 3}
    assert dynamodb.partition_of({"id": {"S": "k1"}}, 4) == dynamodb.partition_of({"id": {"S": "k1"}}, 4)


def test_changes_reach_the_function_in_order_and_once(worker: Any) -> None:
    function = _function("recorder", RECORDER)
    table = make_table("Music")
    write(table, "INSERT", "before", new={"id": {"S": "before"}})  # before a LATEST mapping: never delivered
    mapping = _mapping(function, starting_position="LATEST", batch_size=100)
    expected = []
    for i in range(4):
        key = f"k{i}"
        for event, new, old in (("INSERT", {"id": {"S": key}}, None), ("MODIFY", {"id": {"S": key}, "v": {"N": "2"}}, {"id": {"S": key}}),
                                ("REMOVE", None, {"id": {"S": key}, "v": {"N": "2"}})):
            record = write(table, event, key, new=new, old=old)
            expected.append([event, key, streams.sequence_wire(record.sequence)])
        _written(table)
    until(lambda: _caught_up(mapping, table))
    runs = list(Invocation.objects.filter(function=function, trigger=Trigger.STREAM).order_by("queued_at"))
    assert all(r.status == InvocationStatus.SUCCEEDED for r in runs), [r.logs for r in runs]
    seen = [item for run in runs for item in json.loads(run.result)["seen"]]
    assert seen == expected  # every change, once, in order
    for run in runs:
        DynamoDBStreamModel.model_validate(json.loads(run.payload))
        assert run.trigger_detail["stream_arn"] == ARN and run.trigger_detail["event_source_mapping"] == str(mapping.uuid)
        assert run.trigger_detail["first_sequence"] == json.loads(run.result)["seen"][0][2]
    assert EventSourceMapping.objects.get(pk=mapping.pk).last_processing_result == "OK"
    # idle, then woken again by a write
    late = write(table, "INSERT", "late", new={"id": {"S": "late"}})
    _written(table)
    until(lambda: StreamCheckpoint.objects.get(mapping=mapping).after == late.sequence, 30)


def test_parallel_partitions_keep_each_keys_order(worker: Any) -> None:
    function = _function("parallel", RECORDER)
    table = make_table("Music")
    mapping = _mapping(function, starting_position="TRIM_HORIZON", batch_size=5, options={"ParallelizationFactor": 3})
    assert StreamCheckpoint.objects.filter(mapping=mapping).count() == 3
    order: dict[str, list[str]] = {}
    for step in range(3):
        for i in range(6):
            record = write(table, "INSERT" if step == 0 else "MODIFY", f"k{i}", new={"id": {"S": f"k{i}"}, "step": {"N": str(step)}})
            order.setdefault(f"k{i}", []).append(streams.sequence_wire(record.sequence))
        _written(table)
    until(lambda: _caught_up(mapping, table))
    seen: dict[str, list[str]] = {}
    for run in Invocation.objects.filter(function=function, trigger=Trigger.STREAM).order_by("queued_at"):
        for _, key, sequence in json.loads(run.result)["seen"]:
            seen.setdefault(key, []).append(sequence)
    assert seen == order


def test_partial_failures_checkpoint_at_the_lowest_failed_then_retries_run_out_to_the_queue(worker: Any, root: Any) -> None:  # noqa: F811
    function = _function("reporter", REPORTER)
    table = make_table("Music")
    records = [write(table, "INSERT", key, new={"id": {"S": key}}) for key in ("a", "b", "bad", "c", "bad2")]
    queue = queue_services.queue_create(name="ddb-failures")
    lam = root("lambda")
    created = lam.create_event_source_mapping(FunctionName="reporter", EventSourceArn=ARN, StartingPosition="TRIM_HORIZON", BatchSize=10,
                                              FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1,
                                              DestinationConfig={"OnFailure": {"Destination": queue.arn}})
    assert created["MaximumRetryAttempts"] == 1 and created["DestinationConfig"]["OnFailure"]["Destination"] == queue.arn
    assert created["ParallelizationFactor"] == 1 and created["BisectBatchOnFunctionError"] is False and created["MaximumRecordAgeInSeconds"] == -1
    until(lambda: Message.objects.filter(queue=queue).exists())
    # first [a b bad c bad2] -> checkpoint at bad; its retry [bad c bad2] fails at bad again: retries are used up
    assert _batches(function) == [["a", "b", "bad", "c", "bad2"], ["bad", "c", "bad2"]]
    body = root("sqs").receive_message(QueueUrl=root("sqs").get_queue_url(QueueName="ddb-failures")["QueueUrl"])["Messages"][0]["Body"]
    failure = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate_json(body)
    info = failure.ddb_stream_batch_info
    assert (info.start_sequence_number, info.end_sequence_number, info.batch_size) == (
        streams.sequence_wire(records[2].sequence), streams.sequence_wire(records[4].sequence), 3)
    assert info.stream_arn == ARN and failure.request_context.condition == "RetryAttemptsExhausted" and failure.request_context.approximate_invoke_count == 2
    assert StreamCheckpoint.objects.get(mapping_id=created["UUID"]).after == records[4].sequence  # moved past the batch
    assert lam.get_event_source_mapping(UUID=created["UUID"])["LastProcessingResult"] == "PROBLEM: Function call failed"
    after = write(table, "INSERT", "d", new={"id": {"S": "d"}})
    _written(table)
    until(lambda: StreamCheckpoint.objects.get(mapping_id=created["UUID"]).after == after.sequence, 30)
    assert _batches(function)[-1] == ["d"] and lam.get_event_source_mapping(UUID=created["UUID"])["LastProcessingResult"] == "OK"


def test_bisect_isolates_the_failing_record(worker: Any) -> None:
    function = _function("raiser", RAISER)
    table = make_table("Music")
    queue = queue_services.queue_create(name="bisect-failures")
    for key in ("a", "b", "bad", "c"):
        write(table, "INSERT", key, new={"id": {"S": key}})
    mapping = _mapping(function, batch_size=10, options={"BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 0,
                                                        "DestinationConfig": {"OnFailure": {"Destination": queue.arn}}})
    until(lambda: _caught_up(mapping, table))
    assert _batches(function) == [["a", "b", "bad", "c"], ["a", "b"], ["bad", "c"], ["bad"], ["c"]]
    (message,) = Message.objects.filter(queue=queue)
    info = json.loads(message.body)["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and json.loads(message.body)["responseContext"]["functionError"] == "Unhandled"


def test_writes_through_the_dynamodb_api_trigger_the_function(worker: Any, root: Any) -> None:  # noqa: F811
    """No hand-written rows: boto3's PutItem/UpdateItem/DeleteItem, the table service's records and its after-commit wake-up."""
    function = _function("api-recorder", RECORDER)
    ddb = root("dynamodb")
    created = ddb.create_table(TableName="Users", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                               AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                               StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    arn = created["TableDescription"]["LatestStreamArn"]
    ddb.get_waiter("table_exists").wait(TableName="Users", WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    mapping = root("lambda").create_event_source_mapping(FunctionName="api-recorder", EventSourceArn=arn, StartingPosition="LATEST", BatchSize=100)
    until(lambda: EventSourceMapping.objects.get(pk=mapping["UUID"]).state == MappingState.ENABLED, 15)
    ddb.put_item(TableName="Users", Item={"id": {"S": "u1"}, "name": {"S": "Ann"}})
    ddb.update_item(TableName="Users", Key={"id": {"S": "u1"}}, UpdateExpression="SET #n = :n", ExpressionAttributeNames={"#n": "name"},
                    ExpressionAttributeValues={":n": {"S": "Bea"}})
    ddb.delete_item(TableName="Users", Key={"id": {"S": "u1"}})

    def seen() -> list[str]:
        return [item[0] for run in Invocation.objects.filter(function=function, status=InvocationStatus.SUCCEEDED).order_by("queued_at")
                for item in json.loads(run.result)["seen"]]

    until(lambda: len(seen()) >= 3, 60)
    assert seen() == ["INSERT", "MODIFY", "REMOVE"]
    first = json.loads(Invocation.objects.filter(function=function).order_by("queued_at").first().payload)
    DynamoDBStreamModel.model_validate(first)
    assert first["Records"][0]["eventSourceARN"] == arn and first["Records"][0]["dynamodb"]["NewImage"]["name"] == {"S": "Ann"}


def test_a_stream_poll_whose_worker_died_does_not_block_the_partition(worker: Any) -> None:
    """Issue 15: a worker SIGKILLed while it polled a partition left its lock (``b"1"``, no holder) for ``LOCK_S``
    (16.5 min): the sweep skipped the partition and its records waited. The lock now names its worker; one whose
    worker no longer beats is taken over by the next poll (woken by a write or the sweep); a live one is respected."""
    from invoker.redis_client import get_redis
    from invoker.workers import WORKER_NAME

    function = _function("after-dead-stream-poller", RECORDER)
    table = make_table("Music")
    mapping = _mapping(function, starting_position="TRIM_HORIZON", batch_size=100)
    redis = get_redis()
    lock = dynamodb._lock_key(mapping.pk, 0)
    redis.set(f"kiln:worker:{WORKER_NAME}", "{}", ex=60)  # this process counts as a live worker for the first half
    try:
        # A live poller holds the partition: taken as soon as the worker's own polls (the mapping's first, a sweep's) let go.
        until(lambda: redis.set(lock, WORKER_NAME, ex=900, nx=True), 10)
        record = write(table, "INSERT", "waiting", new={"id": {"S": "waiting"}})
        _written(table)
        assert dynamodb.dynamodb_sweep() == 0 and dynamodb.dynamodb_poll(str(mapping.pk), 0) == 0  # respected
        assert StreamCheckpoint.objects.get(mapping=mapping).after < record.sequence
        redis.set(lock, "gone-host:1", ex=900)  # ... now its worker is gone (SIGKILLed: no heartbeat)
        polled = dynamodb.dynamodb_sweep()  # the sweep sends a poll, which takes the lock over ...
        # ... unless the worker's poll for the write, late under load (CI: -n 2), took it over first: the sweep then
        # respects that live poller. Either way the dead worker's lock is gone; a bug that respected it keeps it.
        assert polled == 1 or redis.get(lock) != b"gone-host:1"
        until(lambda: StreamCheckpoint.objects.get(mapping=mapping).after == record.sequence, 30)
        assert _batches(function) == [["waiting"]]
        assert redis.get(lock) != b"gone-host:1"  # taken over, then released by the worker that took it
    finally:
        redis.delete(f"kiln:worker:{WORKER_NAME}")
