"""The DynamoDB Streams API with real boto3 (``boto3.client("dynamodbstreams")``): ListStreams, DescribeStream,
GetShardIterator of each type, GetRecords paging, expired and trimmed errors, record shapes per view type, IAM."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tables import streams
from tables.models import StreamRecord, Table
from tests.tables.test_streams import LABEL, make_table, write

pytestmark = pytest.mark.django_db(transaction=True)


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def _iterator(client: Any, arn: str, kind: str, sequence: str | None = None) -> str:
    shard = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    extra = {"SequenceNumber": sequence} if sequence else {}
    return client.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **extra)["ShardIterator"]


def test_list_and_describe(root: Any) -> None:
    client = root("dynamodbstreams")
    make_table("Music")
    make_table("Books", view_type="KEYS_ONLY", label="2026-12-01T09:00:00.000")
    make_table("Plain", enabled=False, label="")
    listed = client.list_streams()["Streams"]
    assert [(s["TableName"], s["StreamLabel"]) for s in listed] == [("Books", "2026-12-01T09:00:00.000"), ("Music", LABEL)]
    assert listed[1]["StreamArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/{LABEL}"
    assert client.list_streams(TableName="Music")["Streams"] == [listed[1]]
    first = client.list_streams(Limit=1)
    assert first["Streams"] == [listed[0]] and first["LastEvaluatedStreamArn"] == listed[0]["StreamArn"]
    second = client.list_streams(Limit=1, ExclusiveStartStreamArn=first["LastEvaluatedStreamArn"])
    assert second["Streams"] == [listed[1]] and "LastEvaluatedStreamArn" not in second
    with pytest.raises(ClientError) as missing:
        client.list_streams(TableName="Nope")
    assert _code(missing) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as over:
        client.list_streams(Limit=101)
    assert _code(over) == "ValidationException"

    description = client.describe_stream(StreamArn=listed[1]["StreamArn"])["StreamDescription"]
    assert description["StreamStatus"] == "ENABLED" and description["StreamViewType"] == "NEW_AND_OLD_IMAGES" and description["TableName"] == "Music"
    assert description["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}] and description["StreamLabel"] == LABEL
    assert description["CreationRequestDateTime"] == datetime.datetime(2026, 12, 1, 10, tzinfo=datetime.UTC)
    (shard,) = description["Shards"]
    assert shard["ShardId"].startswith("shardId-") and shard["SequenceNumberRange"] == {"StartingSequenceNumber": "000000000000000000001"}
    assert client.describe_stream(StreamArn=listed[1]["StreamArn"], Limit=100, ExclusiveStartShardId=shard["ShardId"])["StreamDescription"]["Shards"] == []
    with pytest.raises(ClientError) as over:
        client.describe_stream(StreamArn=listed[1]["StreamArn"], Limit=101)
    assert _code(over) == "ValidationException"
    gone = "arn:aws:dynamodb:us-east-1:000000000000:table/Nope/stream/2026-01-01T00:00:00.000"
    with pytest.raises(ClientError) as missing:
        client.describe_stream(StreamArn=gone)
    assert _code(missing) == "ResourceNotFoundException"
    assert missing.value.response["Error"]["Message"] == f"Requested resource not found: Stream: {gone} not found"


def test_iterators_and_paging(root: Any) -> None:
    client = root("dynamodbstreams")
    table = make_table("Music")
    arn = streams.stream_arn("Music", LABEL)
    records = [write(table, "INSERT", f"k{i}", new={"id": {"S": f"k{i}"}}) for i in range(7)]
    latest = _iterator(client, arn, "LATEST")
    seen: list[str] = []
    iterator = _iterator(client, arn, "TRIM_HORIZON")
    for _ in range(5):
        page = client.get_records(ShardIterator=iterator, Limit=3)
        seen += [r["dynamodb"]["SequenceNumber"] for r in page["Records"]]
        iterator = page["NextShardIterator"]  # always there for an open shard
        if not page["Records"]:
            break
    assert seen == [streams.sequence_wire(r.sequence) for r in records]
    assert client.get_records(ShardIterator=latest)["Records"] == []
    write(table, "INSERT", "late", new={"id": {"S": "late"}})
    assert [r["dynamodb"]["Keys"] for r in client.get_records(ShardIterator=latest)["Records"]] == [{"id": {"S": "late"}}]
    assert [r["dynamodb"]["Keys"] for r in client.get_records(ShardIterator=iterator)["Records"]] == [{"id": {"S": "late"}}]
    at = _iterator(client, arn, "AT_SEQUENCE_NUMBER", streams.sequence_wire(records[3].sequence))
    assert client.get_records(ShardIterator=at, Limit=1)["Records"][0]["dynamodb"]["Keys"] == {"id": {"S": "k3"}}
    after = _iterator(client, arn, "AFTER_SEQUENCE_NUMBER", streams.sequence_wire(records[3].sequence))
    assert client.get_records(ShardIterator=after, Limit=1)["Records"][0]["dynamodb"]["Keys"] == {"id": {"S": "k4"}}
    assert len(client.get_records(ShardIterator=after, Limit=1000)["Records"]) == 4
    for limit in (0, 1001):
        with pytest.raises(Exception) as refused:  # 0: botocore's own validation; 1001: Kiln's
            client.get_records(ShardIterator=after, Limit=limit)
        if isinstance(refused.value, ClientError):
            assert _code(refused) == "ValidationException"
    shard = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    with pytest.raises(ClientError) as no_sequence:
        client.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER")
    assert _code(no_sequence) == "ValidationException"
    with pytest.raises(ClientError) as bad_type:
        client.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AT_TIMESTAMP")
    assert _code(bad_type) == "ValidationException"
    with pytest.raises(ClientError) as forged:
        client.get_records(ShardIterator="not-an-iterator")
    assert _code(forged) == "ValidationException"


def test_expired_and_trimmed(root: Any) -> None:
    client = root("dynamodbstreams")
    table = make_table("Music")
    arn = streams.stream_arn("Music", LABEL)
    old = write(table, "INSERT", "old", new={"id": {"S": "old"}}, created_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=25))
    write(table, "INSERT", "new", new={"id": {"S": "new"}})
    stream = streams.stream_get(arn)
    stale = streams.iterator_encode(arn, stream.shard_id, 0, created_ms=int(time.time() * 1000) - streams.ITERATOR_TTL_MS - 1000)
    with pytest.raises(ClientError) as expired:
        client.get_records(ShardIterator=stale)
    assert _code(expired) == "ExpiredIteratorException" and "Iterator expired. The iterator was created at time" in str(expired.value)
    from tables.tasks import trim_streams

    assert trim_streams() == 1
    with pytest.raises(ClientError) as trimmed:
        _iterator(client, arn, "AT_SEQUENCE_NUMBER", streams.sequence_wire(old.sequence))
    assert _code(trimmed) == "TrimmedDataAccessException"
    page = client.get_records(ShardIterator=_iterator(client, arn, "TRIM_HORIZON"))
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in page["Records"]] == ["new"]


@pytest.mark.parametrize("view_type", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"])
def test_record_shapes_per_view_type(root: Any, view_type: str) -> None:
    client = root("dynamodbstreams")
    table = make_table("Music", view_type=view_type)
    keep_new, keep_old = view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"), view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    v1, v2 = {"id": {"S": "a"}, "n": {"N": "1"}, "b": {"B": "AAE="}}, {"id": {"S": "a"}, "n": {"N": "2"}, "tags": {"SS": ["x", "y"]}}
    write(table, "INSERT", "a", new=v1 if keep_new else None)
    write(table, "MODIFY", "a", new=v2 if keep_new else None, old=v1 if keep_old else None)
    write(table, "REMOVE", "a", old=v2 if keep_old else None, identity=streams.TTL_IDENTITY)
    got = client.get_records(ShardIterator=_iterator(client, streams.stream_arn("Music", LABEL), "TRIM_HORIZON"))["Records"]
    assert [r["eventName"] for r in got] == ["INSERT", "MODIFY", "REMOVE"]
    for record in got:
        assert record["eventVersion"] == "1.1" and record["eventSource"] == "aws:dynamodb" and record["awsRegion"] == "us-east-1"
        change = record["dynamodb"]
        assert change["StreamViewType"] == view_type and change["Keys"] == {"id": {"S": "a"}} and change["SizeBytes"] > 0
        assert isinstance(change["ApproximateCreationDateTime"], datetime.datetime) and len(change["SequenceNumber"]) == 21
    assert ("NewImage" in got[0]["dynamodb"]) == keep_new and ("NewImage" in got[1]["dynamodb"]) == keep_new and "NewImage" not in got[2]["dynamodb"]
    assert "OldImage" not in got[0]["dynamodb"] and ("OldImage" in got[1]["dynamodb"]) == keep_old and ("OldImage" in got[2]["dynamodb"]) == keep_old
    if keep_new:
        assert got[0]["dynamodb"]["NewImage"]["b"] == {"B": b"\x00\x01"} and got[1]["dynamodb"]["NewImage"]["tags"] == {"SS": ["x", "y"]}
    assert got[2]["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"} and "userIdentity" not in got[0]


def test_iam_actions_on_the_stream_arn(root: Any, make_client: Any) -> None:
    import json

    table = make_table("Music")
    write(table, "INSERT", "a", new={"id": {"S": "a"}})
    arn = streams.stream_arn("Music", LABEL)
    iam = root("iam")
    iam.create_user(UserName="reader")
    issued = iam.create_access_key(UserName="reader")["AccessKey"]
    client = make_client("dynamodbstreams", (issued["AccessKeyId"], issued["SecretAccessKey"]))
    with pytest.raises(ClientError) as denied:
        client.describe_stream(StreamArn=arn)
    assert _code(denied) == "AccessDeniedException" and "dynamodb:DescribeStream" in str(denied.value)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"],
                                                      "Resource": "arn:aws:dynamodb:*:*:table/Music/stream/*"}]}
    iam.put_user_policy(UserName="reader", PolicyName="streams", PolicyDocument=json.dumps(policy))
    records = client.get_records(ShardIterator=_iterator(client, arn, "TRIM_HORIZON"))["Records"]
    assert len(records) == 1
    with pytest.raises(ClientError) as listing:
        client.list_streams()
    assert _code(listing) == "AccessDeniedException"
    assert StreamRecord.objects.count() == 1 and Table.objects.count() == 1


def test_end_to_end_with_the_dynamodb_client(root: Any) -> None:
    """Items written through boto3's DynamoDB client appear in the stream, in order, as the view type keeps them."""
    ddb, client = root("dynamodb"), root("dynamodbstreams")
    created = ddb.create_table(TableName="Orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                               AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
                               BillingMode="PAY_PER_REQUEST", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    arn = created["TableDescription"]["LatestStreamArn"]
    ddb.get_waiter("table_exists").wait(TableName="Orders", WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    assert [s["StreamArn"] for s in client.list_streams(TableName="Orders")["Streams"]] == [arn]
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "u1"}, "sk": {"N": "1"}, "amount": {"N": "10.50"}})
    ddb.update_item(TableName="Orders", Key={"pk": {"S": "u1"}, "sk": {"N": "1"}}, UpdateExpression="SET amount = amount + :d",
                    ExpressionAttributeValues={":d": {"N": "1"}})
    ddb.delete_item(TableName="Orders", Key={"pk": {"S": "u1"}, "sk": {"N": "1"}})
    description = client.describe_stream(StreamArn=arn)["StreamDescription"]
    assert description["StreamStatus"] == "ENABLED" and description["TableName"] == "Orders" and description["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    got = client.get_records(ShardIterator=_iterator(client, arn, "TRIM_HORIZON"))["Records"]
    assert [r["eventName"] for r in got] == ["INSERT", "MODIFY", "REMOVE"]
    assert all(r["dynamodb"]["Keys"] == {"pk": {"S": "u1"}, "sk": {"N": "1"}} for r in got)
    assert got[0]["dynamodb"]["NewImage"]["amount"] == {"N": "10.5"} or got[0]["dynamodb"]["NewImage"]["amount"] == {"N": "10.50"}
    assert got[1]["dynamodb"]["OldImage"]["amount"]["N"] in ("10.5", "10.50") and got[1]["dynamodb"]["NewImage"]["amount"] == {"N": "11.5"}
    assert "NewImage" not in got[2]["dynamodb"] and got[2]["dynamodb"]["OldImage"]["amount"] == {"N": "11.5"}
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in got]
    assert sequences == sorted(sequences)
    # turning the stream off closes its shard; the old stream is still listed and readable
    ddb.update_table(TableName="Orders", StreamSpecification={"StreamEnabled": False})
    closed = client.describe_stream(StreamArn=arn)["StreamDescription"]
    assert closed["StreamStatus"] == "DISABLED" and closed["Shards"][0]["SequenceNumberRange"]["EndingSequenceNumber"] == got[-1]["dynamodb"]["SequenceNumber"]
    after_end = _iterator(client, arn, "AFTER_SEQUENCE_NUMBER", got[-1]["dynamodb"]["SequenceNumber"])
    page = client.get_records(ShardIterator=after_end)
    assert page["Records"] == [] and "NextShardIterator" not in page
