"""SQS over the AWS endpoint with real boto3 clients (awsJson 1.0): every operation, its errors and its limits."""

from __future__ import annotations

import hashlib
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from queues import limits

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sqs(root: Callable[[str], Any]) -> Any:
    return root("sqs")


def _attributes_md5(attributes: dict[str, dict[str, Any]]) -> str:
    """AWS's algorithm, written independently of queues.checksums."""
    out = b""
    for name in sorted(attributes):
        value = attributes[name]
        out += struct.pack("!I", len(name.encode())) + name.encode() + struct.pack("!I", len(value["DataType"].encode())) + value["DataType"].encode()
        if "StringValue" in value:
            out += bytes([1]) + struct.pack("!I", len(value["StringValue"].encode())) + value["StringValue"].encode()
        else:
            out += bytes([2]) + struct.pack("!I", len(value["BinaryValue"])) + value["BinaryValue"]
    return hashlib.md5(out).hexdigest()


def _code(info: Any) -> tuple[str, str]:
    error = info.value.response["Error"]
    return error["Code"], info.value.__class__.__name__


def test_create_get_list_delete_queue(sqs: Any, endpoint: str) -> None:
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    assert url == f"{endpoint}/000000000000/orders"
    assert sqs.create_queue(QueueName="orders")["QueueUrl"] == url  # same attributes: same queue
    assert sqs.get_queue_url(QueueName="orders")["QueueUrl"] == url
    for name in ("orders-2", "other"):
        sqs.create_queue(QueueName=name)
    assert sqs.list_queues()["QueueUrls"] == [f"{endpoint}/000000000000/{n}" for n in ("orders", "orders-2", "other")]
    assert sqs.list_queues(QueueNamePrefix="ord")["QueueUrls"] == [url, url + "-2"]
    page = sqs.list_queues(MaxResults=2)
    assert len(page["QueueUrls"]) == 2 and page["NextToken"]
    rest = sqs.list_queues(MaxResults=2, NextToken=page["NextToken"])
    assert rest["QueueUrls"] == [f"{endpoint}/000000000000/other"] and "NextToken" not in rest
    # a URL in sqs.<region>.localhost style names the same queue
    assert sqs.get_queue_attributes(QueueUrl="http://sqs.us-east-1.localhost/000000000000/orders", AttributeNames=["QueueArn"])["Attributes"] == {
        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:orders"}
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as info:
        sqs.get_queue_url(QueueName="orders")
    assert _code(info) == ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
    assert info.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url, MessageBody="x")


def test_create_queue_errors(sqs: Any) -> None:
    sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "10"})
    with pytest.raises(sqs.exceptions.QueueNameExists) as info:
        sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "11"})
    assert _code(info)[0] == "QueueAlreadyExists"
    for name, attributes, code in [("bad name", {}, "InvalidParameterValue"), ("x" * 81, {}, "InvalidParameterValue"), ("a.fifo", {}, "InvalidParameterValue"),
                                   ("plain", {"FifoQueue": "true"}, "InvalidParameterValue"), ("v", {"VisibilityTimeout": "43201"}, "InvalidAttributeValue"),
                                   ("m", {"MaximumMessageSize": str(limits.MESSAGE_SIZE_MAX + 1)}, "InvalidAttributeValue"),
                                   ("u", {"Bogus": "1"}, "InvalidAttributeName"), ("c", {"ContentBasedDeduplication": "true"}, "InvalidAttributeName")]:
        with pytest.raises(ClientError) as info:
            sqs.create_queue(QueueName=name, Attributes=attributes)
        assert _code(info)[0] == code, name
    assert sqs.create_queue(QueueName="x" * 80)["QueueUrl"].endswith("x" * 80)


def test_queue_attributes_and_counts(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="attrs", Attributes={"DelaySeconds": "0", "MaximumMessageSize": "2048"})["QueueUrl"]
    everything = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert everything["VisibilityTimeout"] == "30" and everything["MessageRetentionPeriod"] == "345600" and everything["MaximumMessageSize"] == "2048"
    assert everything["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:attrs" and everything["ReceiveMessageWaitTimeSeconds"] == "0"
    assert "FifoQueue" not in everything
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "60", "MaximumMessageSize": str(limits.MESSAGE_SIZE_MAX)})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {"VisibilityTimeout": "60"}
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    sqs.receive_message(QueueUrl=url)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                                                    "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    assert counts == {"ApproximateNumberOfMessages": "1", "ApproximateNumberOfMessagesNotVisible": "1", "ApproximateNumberOfMessagesDelayed": "1"}
    with pytest.raises(ClientError) as info:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Nope"])
    assert _code(info)[0] == "InvalidAttributeName"
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
    assert _code(info)[0] == "InvalidAttributeName"


def test_send_receive_delete_with_attributes_and_md5s(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    attributes = {"order.kind": {"DataType": "String", "StringValue": "order"}, "n": {"DataType": "Number", "StringValue": "42"},
                  "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"}, "emoji": {"DataType": "String.custom", "StringValue": "h\u00e9llo \U0001f600"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="h\u00e9llo", MessageAttributes=attributes,
                            MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}})
    assert sent["MD5OfMessageBody"] == hashlib.md5("h\u00e9llo".encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == _attributes_md5(attributes)
    assert sent["MD5OfMessageSystemAttributes"] == _attributes_md5({"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}})
    before = int(time.time() * 1000)
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])["Messages"]
    assert len(got) == 1
    message = got[0]
    assert message["MessageId"] == sent["MessageId"] and message["Body"] == "h\u00e9llo" and message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MessageAttributes"] == attributes and message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    system = message["Attributes"]
    assert system["ApproximateReceiveCount"] == "1" and abs(int(system["SentTimestamp"]) - before) < 5000
    assert int(system["ApproximateFirstReceiveTimestamp"]) >= int(system["SentTimestamp"]) and system["AWSTraceHeader"].startswith("Root=")
    assert system["SenderId"]
    # named and prefixed attribute selection
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["order.*", "n"], AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert set(again["MessageAttributes"]) == {"order.kind", "n"} and again["Attributes"] == {"ApproximateReceiveCount": "2"}
    assert again["MD5OfMessageAttributes"] == _attributes_md5({k: attributes[k] for k in ("order.kind", "n")})
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")


def test_message_size_limit_at_its_edge(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="big")["QueueUrl"]
    assert limits.MESSAGE_SIZE_MAX == 1_048_576
    body = "x" * limits.MESSAGE_SIZE_MAX
    sqs.send_message(QueueUrl=url, MessageBody=body)
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody=body + "x")
    assert _code(info)[0] == "InvalidParameterValue" and "1048576" in info.value.response["Error"]["Message"]
    # attributes count toward the size: name + type + value
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="x" * (limits.MESSAGE_SIZE_MAX - 10), MessageAttributes={"ab": {"DataType": "String", "StringValue": "12345"}})
    sqs.send_message(QueueUrl=url, MessageBody="x" * (limits.MESSAGE_SIZE_MAX - 13), MessageAttributes={"ab": {"DataType": "String", "StringValue": "12345"}})
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(len(m["Body"]) for m in got) == [limits.MESSAGE_SIZE_MAX - 13, limits.MESSAGE_SIZE_MAX]
    small = sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    sqs.send_message(QueueUrl=small, MessageBody="y" * 1024)
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=small, MessageBody="y" * 1025)


def test_send_errors(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="errs")["QueueUrl"]
    cases = [({"MessageBody": "bad \x01"}, "InvalidMessageContents"), ({"MessageBody": "x", "DelaySeconds": 901}, "InvalidParameterValue"),
             ({"MessageBody": "x", "MessageAttributes": {"AWS.x": {"DataType": "String", "StringValue": "v"}}}, "InvalidParameterValue"),
             ({"MessageBody": "x", "MessageAttributes": {"a": {"DataType": "Number", "StringValue": "NaNx"}}}, "InvalidParameterValue"),
             ({"MessageBody": "x", "MessageAttributes": {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}}, "InvalidParameterValue"),
             ({"MessageBody": "x", "MessageDeduplicationId": "d"}, "InvalidParameterValue")]
    for params, code in cases:
        with pytest.raises(ClientError) as info:
            sqs.send_message(QueueUrl=url, **params)
        assert _code(info)[0] == code, params
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(10)})
    for params in ({"MaxNumberOfMessages": 11}, {"MaxNumberOfMessages": 0}, {"WaitTimeSeconds": 21}, {"VisibilityTimeout": 43201}):
        with pytest.raises(ClientError) as info:
            sqs.receive_message(QueueUrl=url, **params)
        assert _code(info)[0] == "InvalidParameterValue", params
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)["Messages"]) == 1


def test_batches(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="batch")["QueueUrl"]
    result = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": f"body {i}"} for i in range(9)] + [{"Id": "bad", "MessageBody": "\x02"}])
    assert sorted(e["Id"] for e in result["Successful"]) == sorted(f"m{i}" for i in range(9))
    assert result["Failed"] == [{"Id": "bad", "SenderFault": True, "Code": "InvalidMessageContents", "Message": result["Failed"][0]["Message"]}]
    for entries, code, exception in [([{"Id": f"m{i}", "MessageBody": "x"} for i in range(11)], "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "TooManyEntriesInBatchRequest"),
                                     ([{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}], "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "BatchEntryIdsNotDistinct"),
                                     ([{"Id": "no spaces", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId", "InvalidBatchEntryId"),
                                     ([], "AWS.SimpleQueueService.EmptyBatchRequest", "EmptyBatchRequest"),
                                     ([{"Id": "a", "MessageBody": "x" * 600_000}, {"Id": "b", "MessageBody": "y" * 448_577}], "AWS.SimpleQueueService.BatchRequestTooLong", "BatchRequestTooLong")]:
        with pytest.raises(ClientError) as info:
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert _code(info) == (code, exception)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x" * 600_000}, {"Id": "b", "MessageBody": "y" * 448_576}])
    received = []
    while len(received) < 11:
        received += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
    assert len(received) == 11 and len({m["MessageId"] for m in received}) == 11
    changed = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[{"Id": "c0", "ReceiptHandle": received[0]["ReceiptHandle"], "VisibilityTimeout": 0},
                                                                         {"Id": "c1", "ReceiptHandle": "garbage", "VisibilityTimeout": 0}])
    assert [e["Id"] for e in changed["Successful"]] == ["c0"] and changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    again = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert again["MessageId"] == received[0]["MessageId"]
    deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received[1:])])
    assert len(deleted["Successful"]) == 10 and deleted["Failed"] == []
    deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "again", "ReceiptHandle": again["ReceiptHandle"]}, {"Id": "bad", "ReceiptHandle": "x"}])
    assert deleted["Successful"] == [{"Id": "again"}] and deleted["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "0" and counts["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_visibility_timeout_expiry_receive_count_and_stale_handles(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="vis")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="once")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # invisible
    time.sleep(1.3)
    second = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert second["MessageId"] == first["MessageId"] and second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    # the older handle: DeleteMessage succeeds but deletes nothing; ChangeMessageVisibility refuses it
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])["Attributes"] == {"ApproximateNumberOfMessagesNotVisible": "1"}
    with pytest.raises(ClientError) as info:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    assert _code(info)[0] == "InvalidParameterValue"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0)
    third = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"])
    with pytest.raises(ClientError) as info:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"], VisibilityTimeout=10)
    assert _code(info)[0] == "InvalidParameterValue"


def test_delay_seconds(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="delayed", Attributes={"DelaySeconds": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="queue delay")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    start = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]  # wakes when the delay ends, with no send to wake it
    assert got[0]["Body"] == "queue delay" and time.monotonic() - start < 3


def test_dead_letter_redrive(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = '{"deadLetterTargetArn":"%s","maxReceiveCount":2}' % dlq_arn
    url = sqs.create_queue(QueueName="source", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"] == policy
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [url]
    sent = sqs.send_message(QueueUrl=url, MessageBody="poison")
    for count in ("1", "2"):
        got = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
        assert got["Attributes"]["ApproximateReceiveCount"] == count
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # the third receive moves it
    moved = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"])["Messages"][0]
    assert moved["MessageId"] == sent["MessageId"] and moved["Body"] == "poison"
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == "arn:aws:sqs:us-east-1:000000000000:source"
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:nope","maxReceiveCount":2}'})
    assert _code(info)[0] == "InvalidAttributeValue"
    with pytest.raises(ClientError):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": '{"deadLetterTargetArn":"%s","maxReceiveCount":1001}' % dlq_arn})


def test_fifo_ordering_groups_and_deduplication(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="jobs.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true" and attributes["ContentBasedDeduplication"] == "false"
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert _code(info)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert _code(info)[0] == "MissingParameter"
    first = sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="a", MessageDeduplicationId="1")
    duplicate = sqs.send_message(QueueUrl=url, MessageBody="a1 again", MessageGroupId="a", MessageDeduplicationId="1")
    assert duplicate["MessageId"] == first["MessageId"] and duplicate["SequenceNumber"] == first["SequenceNumber"]
    sqs.send_message(QueueUrl=url, MessageBody="a2", MessageGroupId="a", MessageDeduplicationId="2")
    sqs.send_message(QueueUrl=url, MessageBody="b1", MessageGroupId="b", MessageDeduplicationId="3")
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="a", MessageDeduplicationId="4", DelaySeconds=5)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in got] == ["a1", "a2", "b1"]
    assert got[0]["Attributes"]["MessageGroupId"] == "a" and got[0]["Attributes"]["MessageDeduplicationId"] == "1"
    assert int(got[0]["Attributes"]["SequenceNumber"]) < int(got[1]["Attributes"]["SequenceNumber"])
    # a group with a message in flight delivers nothing else until it is deleted or visible again
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[1]["ReceiptHandle"], VisibilityTimeout=0)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["a2"]
    content = sqs.create_queue(QueueName="content.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    one = sqs.send_message(QueueUrl=content, MessageBody="same", MessageGroupId="g")
    assert sqs.send_message(QueueUrl=content, MessageBody="same", MessageGroupId="g")["MessageId"] == one["MessageId"]
    assert sqs.send_message(QueueUrl=content, MessageBody="other", MessageGroupId="g")["MessageId"] != one["MessageId"]


def test_long_poll_returns_as_soon_as_a_message_is_sent(sqs: Any, root: Callable[[str], Any]) -> None:
    url = sqs.create_queue(QueueName="poll")["QueueUrl"]
    sender = root("sqs")
    timer = threading.Timer(1.0, lambda: sender.send_message(QueueUrl=url, MessageBody="wake"))
    start = time.monotonic()
    timer.start()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=15)
    took = time.monotonic() - start
    timer.join()
    assert got["Messages"][0]["Body"] == "wake" and 0.9 < took < 3
    start = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert 0.9 < time.monotonic() - start < 3
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ReceiveMessageWaitTimeSeconds": "1"})  # the queue's default wait
    start = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert time.monotonic() - start > 0.9


def test_concurrent_receivers_never_share_a_message(sqs: Any, root: Callable[[str], Any]) -> None:
    url = sqs.create_queue(QueueName="race")["QueueUrl"]
    for start in range(0, 60, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": str(i)} for i in range(start, start + 10)])
    seen: list[list[str]] = [[], [], []]
    clients = [root("sqs") for _ in seen]

    def drain(index: int) -> None:
        while True:
            got = clients[index].receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
            if not got:
                return
            seen[index] += [m["Body"] for m in got]

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(len(seen))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [body for part in seen for body in part]
    assert sorted(everything, key=int) == [str(i) for i in range(60)]  # each exactly once


def test_purge_tags_and_delete(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="tagged", tags={"team": "a"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev", "team": "b"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "env": "dev"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}
    with pytest.raises(ClientError):
        sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(50)})
    sqs.send_message(QueueUrl=url, MessageBody="gone")
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress) as info:
        sqs.purge_queue(QueueUrl=url)
    assert _code(info)[0] == "AWS.SimpleQueueService.PurgeQueueInProgress"
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.list_queue_tags(QueueUrl=url)


def test_iam_decides(make_client: Callable[..., Any], sqs: Any) -> None:
    from iam.credentials import access_key_create
    from iam.users import user_create, user_policy_put

    url = sqs.create_queue(QueueName="guarded")["QueueUrl"]
    user = user_create(name="sender")
    user_policy_put(user=user, name="send", document={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "arn:aws:sqs:us-east-1:000000000000:guarded"}]})
    issued = access_key_create(user=user)
    client = make_client("sqs", (issued.key.access_key_id, issued.secret))
    client.send_message(QueueUrl=url, MessageBody="allowed")
    client.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "allowed too"}])
    with pytest.raises(ClientError) as info:
        client.receive_message(QueueUrl=url)
    assert info.value.response["Error"]["Code"] == "AccessDenied" and info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_trace_header_becomes_aws_trace_header(sqs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url = sqs.create_queue(QueueName="traced")["QueueUrl"]
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "inside-a-function")  # botocore sends X-Amzn-Trace-Id from inside Lambda
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-00000000-000000000000000000000001;Sampled=1")
    sqs.send_message(QueueUrl=url, MessageBody="traced")
    got = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"][0]
    assert got["Attributes"] == {"AWSTraceHeader": "Root=1-00000000-000000000000000000000001;Sampled=1"}


def test_addressing_inflight_and_unsupported_errors(sqs: Any, endpoint: str) -> None:
    url = sqs.create_queue(QueueName="misc")["QueueUrl"]
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=f"{endpoint}/123456789012/misc", MessageBody="x")  # another account
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=f"{endpoint}/not-a-queue-url/a/b", MessageBody="x")
    assert _code(info)[0] == "InvalidAddress"
    sqs.send_message(QueueUrl=url, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["ReceiptHandle"]
    with pytest.raises(sqs.exceptions.MessageNotInflight) as info:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=10)
    assert _code(info)[0] == "AWS.SimpleQueueService.MessageNotInflight"
    with pytest.raises(sqs.exceptions.UnsupportedOperation) as info:
        sqs.add_permission(QueueUrl=url, Label="l", AWSAccountIds=["000000000000"], Actions=["SendMessage"])
    assert _code(info)[0] == "AWS.SimpleQueueService.UnsupportedOperation"


def test_query_protocol_for_older_sdks(endpoint: str, root_key: tuple[str, str]) -> None:
    """Form-encoded ``Action=...`` requests, as SDKs before botocore 1.31 (and CLI v1 of that time) send them."""
    import re
    from urllib.parse import urlencode

    from tests.aws.conftest import signed_send

    def call(**form: Any) -> tuple[int, str]:
        status, headers, body, _ = signed_send(endpoint, "POST", "/", root_key, service="sqs", body=urlencode({"Version": "2012-11-05", **form}).encode(),
                                               headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        assert headers["content-type"].startswith("text/xml")
        return status, body.decode()

    status, body = call(Action="CreateQueue", QueueName="legacy", **{"Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "45"})
    assert status == 200 and f"<QueueUrl>{endpoint}/000000000000/legacy</QueueUrl>" in body and "<CreateQueueResponse" in body
    url = f"{endpoint}/000000000000/legacy"
    status, body = call(Action="SendMessage", QueueUrl=url, MessageBody="old sdk", **{"MessageAttribute.1.Name": "k", "MessageAttribute.1.Value.DataType": "String",
                                                                                        "MessageAttribute.1.Value.StringValue": "v"})
    assert status == 200 and f"<MD5OfMessageBody>{hashlib.md5(b'old sdk').hexdigest()}</MD5OfMessageBody>" in body
    assert f"<MD5OfMessageAttributes>{_attributes_md5({'k': {'DataType': 'String', 'StringValue': 'v'}})}</MD5OfMessageAttributes>" in body
    status, body = call(Action="SendMessageBatch", QueueUrl=url, **{"SendMessageBatchRequestEntry.1.Id": "a", "SendMessageBatchRequestEntry.1.MessageBody": "two",
                                                                   "SendMessageBatchRequestEntry.2.Id": "b", "SendMessageBatchRequestEntry.2.MessageBody": "\x01"})
    assert status == 200 and "<SendMessageBatchResultEntry><Id>a</Id>" in body and "<BatchResultErrorEntry><Id>b</Id>" in body
    status, body = call(Action="ReceiveMessage", QueueUrl=url, MaxNumberOfMessages="10", **{"AttributeName.1": "All", "MessageAttributeName.1": "All"})
    assert status == 200 and body.count("<Message>") == 2 and "<Body>old sdk</Body>" in body
    assert "<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>" in body
    assert "<MessageAttribute><Name>k</Name><Value><StringValue>v</StringValue><DataType>String</DataType></Value></MessageAttribute>" in body
    handles = re.findall(r"<ReceiptHandle>([^<]+)</ReceiptHandle>", body)
    status, body = call(Action="DeleteMessageBatch", QueueUrl=url, **{f"DeleteMessageBatchRequestEntry.{i + 1}.{k}": v for i, h in enumerate(handles)
                                                                     for k, v in (("Id", f"d{i}"), ("ReceiptHandle", h))})
    assert status == 200 and body.count("<DeleteMessageBatchResultEntry>") == 2
    status, body = call(Action="GetQueueAttributes", QueueUrl=url, **{"AttributeName.1": "VisibilityTimeout", "AttributeName.2": "ApproximateNumberOfMessages"})
    assert "<Attribute><Name>VisibilityTimeout</Name><Value>45</Value></Attribute>" in body and "<Name>ApproximateNumberOfMessages</Name><Value>0</Value>" in body
    status, body = call(Action="ListQueues")
    assert f"<QueueUrl>{url}</QueueUrl>" in body
    status, body = call(Action="GetQueueUrl", QueueName="nope")
    assert status == 400 and "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>" in body and "<Type>Sender</Type>" in body
    status, body = call(Action="Bogus")
    assert status == 400 and "<Code>InvalidAction</Code>" in body
    assert call(Action="DeleteQueue", QueueUrl=url)[0] == 200
