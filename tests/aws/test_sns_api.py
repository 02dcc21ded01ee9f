"""SNS over the AWS endpoint with real boto3 clients (query protocol): every operation, its errors and limits, and delivery.

Deliveries run in the test process (``tests.topics.helpers.drain``: the code the Celery task runs) except the
end-to-end test at the end, where a real worker delivers to a real Python function.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.topics.helpers import deliver_here, drain  # noqa: F401  (deliver_here: an autouse fixture)
from topics.models import DeliveryStatus, Topic
from topics.signing import string_to_sign

pytestmark = pytest.mark.django_db(transaction=True)
ARN = "arn:aws:sns:us-east-1:000000000000:"


@pytest.fixture(autouse=True)
def _public_url(settings: Any, live_server: Any) -> None:
    settings.KILN_PUBLIC_URL = live_server.url


@pytest.fixture
def sns(root: Callable[[str], Any]) -> Any:
    return root("sns")


@pytest.fixture
def sqs(root: Callable[[str], Any]) -> Any:
    return root("sqs")


def _error(info: Any) -> tuple[str, str, int]:
    error = info.value.response["Error"]
    return error["Code"], error["Message"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _queue(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _receive(sqs: Any, url: str, count: int = 10) -> list[dict[str, Any]]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count, MessageAttributeNames=["All"], AttributeNames=["All"]).get("Messages", [])


def _verify(envelope: dict[str, Any]) -> None:
    """Verify the envelope's signature with the certificate served at its SigningCertURL, as SNS clients do."""
    with urllib.request.urlopen(envelope["SigningCertURL"]) as response:
        cert = x509.load_pem_x509_certificate(response.read())
    digest = hashes.SHA256() if envelope["SignatureVersion"] == "2" else hashes.SHA1()
    cert.public_key().verify(base64.b64decode(envelope["Signature"]), string_to_sign(envelope), padding.PKCS1v15(), digest)  # type: ignore[call-arg,arg-type]


# --- topics ----------------------------------------------------------------------------------------------------------

def test_topic_lifecycle(sns: Any) -> None:
    arn = sns.create_topic(Name="orders", Attributes={"DisplayName": "Orders"}, Tags=[{"Key": "team", "Value": "a"}])["TopicArn"]
    assert arn == ARN + "orders"
    assert sns.create_topic(Name="orders", Attributes={"DisplayName": "Orders"})["TopicArn"] == arn  # same attributes: same topic
    with pytest.raises(ClientError) as info:
        sns.create_topic(Name="orders", Attributes={"DisplayName": "Other"})
    assert _error(info)[:2] == ("InvalidParameter", "Invalid parameter: Attributes Reason: Topic already exists with different attributes")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["TopicArn"] == arn and attributes["Owner"] == "000000000000" and attributes["DisplayName"] == "Orders"
    assert attributes["SubscriptionsConfirmed"] == "0" and attributes["SubscriptionsPending"] == "0" and attributes["SubscriptionsDeleted"] == "0"
    assert json.loads(attributes["Policy"])["Statement"][0]["Resource"] == arn
    assert json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    assert "FifoTopic" not in attributes
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Renamed")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Renamed"
    with pytest.raises(ClientError) as info:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Bogus", AttributeValue="x")
    assert _error(info)[:2] == ("InvalidParameter", "Invalid parameter: AttributeName")
    with pytest.raises(ClientError) as info:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue="{nope")
    assert _error(info)[0] == "InvalidParameter"
    assert sns.list_topics()["Topics"] == [{"TopicArn": arn}]
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # idempotent
    with pytest.raises(ClientError) as info:
        sns.get_topic_attributes(TopicArn=arn)
    assert _error(info) == ("NotFound", "Topic does not exist", 404)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=arn, Message="x")
    with pytest.raises(ClientError) as info:
        sns.get_topic_attributes(TopicArn="not-an-arn")
    assert _error(info)[:2] == ("InvalidParameter", "Invalid parameter: TopicArn")


def test_topic_names(sns: Any) -> None:
    assert sns.create_topic(Name="a" * 256)["TopicArn"] == ARN + "a" * 256
    for bad in ("a" * 257, "has space", "dot.name", ""):
        with pytest.raises(ClientError) as info:
            sns.create_topic(Name=bad)
        assert _error(info)[0] in ("InvalidParameter", "ValidationError"), bad
    with pytest.raises(ClientError) as info:
        sns.create_topic(Name="plain", Attributes={"FifoTopic": "true"})
    assert "Fifo Topic names must end with .fifo" in _error(info)[1]
    with pytest.raises(ClientError) as info:
        sns.create_topic(Name="named.fifo")
    assert _error(info)[:2] == ("InvalidParameter", "Invalid parameter: Topic Name")
    with pytest.raises(ClientError) as info:
        sns.create_topic(Name="std", Attributes={"ContentBasedDeduplication": "true"})
    assert _error(info)[0] == "InvalidParameter"
    arn = sns.create_topic(Name="jobs.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoTopic"] == "true" and attributes["ContentBasedDeduplication"] == "true"


def test_list_topics_pages_of_100(sns: Any) -> None:
    Topic.objects.bulk_create([Topic(name=f"t{i:03d}") for i in range(101)])
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and first["NextToken"]
    second = sns.list_topics(NextToken=first["NextToken"])
    assert second["Topics"] == [{"TopicArn": ARN + "t100"}] and "NextToken" not in second
    assert [t["TopicArn"] for t in sns.get_paginator("list_topics").paginate().build_full_result()["Topics"]][-1] == ARN + "t100"
    from topics.models import Subscription

    topic = Topic.objects.get(name="t000")
    Subscription.objects.bulk_create([Subscription(topic=topic, protocol="sqs", endpoint=f"arn:aws:sqs:us-east-1:000000000000:q{i}", confirmed=True) for i in range(101)])
    for listing in (lambda **kw: sns.list_subscriptions(**kw), lambda **kw: sns.list_subscriptions_by_topic(TopicArn=topic.arn, **kw)):
        page = listing()
        assert len(page["Subscriptions"]) == 100 and page["NextToken"]
        rest = listing(NextToken=page["NextToken"])
        assert [s["Endpoint"] for s in rest["Subscriptions"]] == ["arn:aws:sqs:us-east-1:000000000000:q100"] and "NextToken" not in rest
    with pytest.raises(ClientError) as info:
        sns.list_subscriptions(NextToken="!!")
    assert _error(info)[0] == "InvalidParameter"


def test_tags(sns: Any) -> None:
    arn = sns.create_topic(Name="tagged")["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    with pytest.raises(ClientError) as info:
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-too-many", "Value": "v"}])
    assert _error(info)[0] == "TagLimitExceeded"
    with pytest.raises(ClientError) as info:
        sns.list_tags_for_resource(ResourceArn=ARN + "missing")
    assert _error(info)[:2] == ("ResourceNotFound", "Resource does not exist")


def test_iam_denial_is_authorization_error(make_client: Callable[..., Any], sns: Any) -> None:
    from iam.credentials import access_key_create
    from iam.users import user_create, user_policy_put

    arn = sns.create_topic(Name="guarded")["TopicArn"]
    user = user_create(name="publisher")
    user_policy_put(user=user, name="pub", document={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sns:Publish"], "Resource": arn}]})
    issued = access_key_create(user=user)
    client = make_client("sns", (issued.key.access_key_id, issued.secret))
    assert client.publish(TopicArn=arn, Message="allowed")["MessageId"]
    assert client.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "a", "Message": "allowed too"}])["Successful"]
    with pytest.raises(ClientError) as info:
        client.subscribe(TopicArn=arn, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:q")
    code, message, status = _error(info)
    assert (code, status) == ("AuthorizationError", 403) and "sns:Subscribe" in message
    with pytest.raises(client.exceptions.AuthorizationErrorException):
        client.list_topics()


# --- subscriptions ---------------------------------------------------------------------------------------------------

def test_subscriptions(sns: Any, sqs: Any) -> None:
    arn = sns.create_topic(Name="events")["TopicArn"]
    _, queue_arn = _queue(sqs, "inbox")
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    assert sub.startswith(arn + ":") and len(sub) == len(arn) + 37
    assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"] == sub
    with pytest.raises(ClientError) as info:
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "false"})
    assert "Subscription already exists with different attributes" in _error(info)[1]
    fn = sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint="arn:aws:lambda:us-east-1:000000000000:function:fn")["SubscriptionArn"]
    http = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/hook")["SubscriptionArn"]
    assert http == "pending confirmation"
    for protocol, endpoint, words in (("email", "a@example.com", "Kiln does not deliver to email"), ("carrier-pigeon", "x", "does not support this protocol"),
                                      ("sqs", "not-an-arn", "SQS endpoint ARN"), ("lambda", "nope", "Lambda endpoint ARN"), ("https", "http://x", "Endpoint")):
        with pytest.raises(ClientError) as info:
            sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint)
        assert _error(info)[0] == "InvalidParameter" and words in _error(info)[1], protocol
    with pytest.raises(ClientError) as info:
        sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint="arn:aws:lambda:us-east-1:000000000000:function:fn2", Attributes={"RawMessageDelivery": "true"})
    assert _error(info)[0] == "InvalidParameter"
    with pytest.raises(ClientError) as info:
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn + "-fifo.fifo")
    assert "FIFO SQS Queues can not be subscribed to standard SNS topics" in _error(info)[1]
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [(s["Protocol"], s["SubscriptionArn"]) for s in listed] == [("sqs", sub), ("lambda", fn), ("http", "PendingConfirmation")]
    assert len(sns.list_subscriptions()["Subscriptions"]) == 3
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true" and attributes["Endpoint"] == queue_arn and attributes["PendingConfirmation"] == "false"
    assert attributes["TopicArn"] == arn and attributes["Protocol"] == "sqs"
    topic_attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (topic_attributes["SubscriptionsConfirmed"], topic_attributes["SubscriptionsPending"]) == ("2", "1")
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue='{"kind": ["a"]}')
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=json.dumps({"deadLetterTargetArn": queue_arn}))
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["FilterPolicy"] == '{"kind": ["a"]}' and attributes["FilterPolicyScope"] == "MessageAttributes"
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": queue_arn}
    for name, value in (("FilterPolicy", '{"kind": "not-a-list"}'), ("FilterPolicy", "{bad json"), ("FilterPolicyScope", "Everything"),
                        ("RedrivePolicy", '{"deadLetterTargetArn": "arn:nope"}'), ("RawMessageDelivery", "maybe"), ("Bogus", "1")):
        with pytest.raises(ClientError) as info:
            sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName=name, AttributeValue=value)
        assert _error(info)[0] == "InvalidParameter", name
    with pytest.raises(ClientError) as info:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue='{"kind": "not-a-list"}')
    assert _error(info)[1].startswith("Invalid parameter: FilterPolicy: ")
    sns.unsubscribe(SubscriptionArn=fn)
    with pytest.raises(ClientError) as info:
        sns.get_subscription_attributes(SubscriptionArn=fn)
    assert _error(info) == ("NotFound", "Subscription does not exist", 404)
    with pytest.raises(ClientError) as info:
        sns.unsubscribe(SubscriptionArn="garbage")
    assert _error(info)[:2] == ("InvalidParameter", "Invalid parameter: SubscriptionArn")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsDeleted"] == "1"
    with pytest.raises(ClientError) as info:
        sns.confirm_subscription(TopicArn=arn, Token="wrong")
    assert _error(info)[:2] == ("InvalidParameter", "Invalid parameter: Token")


# --- publishing: limits and errors -----------------------------------------------------------------------------------

def test_publish_limits(sns: Any) -> None:
    arn = sns.create_topic(Name="limits")["TopicArn"]
    assert sns.publish(TopicArn=arn, Message="x" * 262_144)["MessageId"]
    with pytest.raises(ClientError) as info:
        sns.publish(TopicArn=arn, Message="x" * 262_145)
    assert _error(info)[:2] == ("InvalidParameter", "Invalid parameter: Message too long")
    attributes = {"k": {"DataType": "String", "StringValue": "vv"}}  # 1 + 6 + 2 bytes count against the limit
    assert sns.publish(TopicArn=arn, Message="x" * (262_144 - 9), MessageAttributes=attributes)["MessageId"]
    with pytest.raises(ClientError) as info:
        sns.publish(TopicArn=arn, Message="x" * (262_144 - 8), MessageAttributes=attributes)
    assert _error(info)[1] == "Invalid parameter: Message too long"
    assert sns.publish(TopicArn=arn, Message="hi", Subject="s" * 100)["MessageId"]
    for subject in ("s" * 101, "line\nbreak"):
        with pytest.raises(ClientError) as info:
            sns.publish(TopicArn=arn, Message="hi", Subject=subject)
        assert _error(info)[:2] == ("InvalidParameter", "Invalid parameter: Subject")
    with pytest.raises(ClientError) as info:
        sns.publish(TopicArn=arn, Message="")
    assert _error(info)[1] == "Invalid parameter: Empty message"
    assert sns.publish(TargetArn=arn, Message="by target")["MessageId"]
    with pytest.raises(ClientError) as info:
        sns.publish(Message="nowhere")
    assert _error(info)[0] == "InvalidParameter"
    with pytest.raises(ClientError) as info:
        sns.publish(TopicArn=arn, Message="x", MessageDeduplicationId="d")
    assert _error(info)[0] == "InvalidParameter"


def test_publish_message_structure_and_attributes(sns: Any) -> None:
    arn = sns.create_topic(Name="structured")["TopicArn"]
    assert sns.publish(TopicArn=arn, MessageStructure="json", Message=json.dumps({"default": "d", "sqs": "s"}))["MessageId"]
    for message, words in (('{"sqs": "s"}', "No default entry in JSON message body"), ("not json", "JSON message body failed to parse")):
        with pytest.raises(ClientError) as info:
            sns.publish(TopicArn=arn, MessageStructure="json", Message=message)
        assert _error(info)[:2] == ("InvalidParameter", f"Invalid parameter: Message Structure - {words}")
    with pytest.raises(ClientError) as info:
        sns.publish(TopicArn=arn, MessageStructure="xml", Message="x")
    assert _error(info)[1] == "Invalid parameter: MessageStructure"
    good = {"s": {"DataType": "String", "StringValue": "v"}, "n": {"DataType": "Number", "StringValue": "1.5"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}, "a": {"DataType": "String.Array", "StringValue": '["x", 1, true, null]'}}
    assert sns.publish(TopicArn=arn, Message="x", MessageAttributes=good)["MessageId"]
    cases = [({"n": {"DataType": "Number", "StringValue": "abc"}}, "Could not cast message attribute 'n' value to number."),
             ({"t": {"DataType": "Integer", "StringValue": "1"}}, "The message attribute 't' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."),
             ({"e": {"DataType": "String", "StringValue": ""}}, "The message attribute 'e' must contain non-empty message attribute value for message attribute type 'String'."),
             ({"a": {"DataType": "String.Array", "StringValue": '{"not": "array"}'}}, "The message attribute 'a' with type 'String.Array' must be a JSON array"),
             ({"AWS.x": {"DataType": "String", "StringValue": "v"}}, "The message attribute name 'AWS.x' is invalid."),
             ({f"k{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}, "Number of message attributes [11] exceeds the allowed maximum [10].")]
    for attributes, words in cases:
        with pytest.raises(ClientError) as info:
            sns.publish(TopicArn=arn, Message="x", MessageAttributes=attributes)
        assert _error(info)[0] == "ParameterValueInvalid" and _error(info)[1].startswith(words), attributes
    assert sns.publish(TopicArn=arn, Message="x", MessageAttributes={f"k{i}": {"DataType": "String", "StringValue": "v"} for i in range(10)})["MessageId"]


def test_publish_batch(sns: Any) -> None:
    arn = sns.create_topic(Name="batch")["TopicArn"]
    entries = [{"Id": f"e{i}", "Message": f"m{i}"} for i in range(10)]
    result = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries)
    assert [s["Id"] for s in result["Successful"]] == [f"e{i}" for i in range(10)] and result["Failed"] == []
    for entries, code in (([{"Id": f"e{i}", "Message": "m"} for i in range(11)], "TooManyEntriesInBatchRequest"),
                          ([{"Id": "same", "Message": "a"}, {"Id": "same", "Message": "b"}], "BatchEntryIdsNotDistinct"),
                          ([{"Id": "bad id!", "Message": "a"}], "InvalidBatchEntryId"),
                          ([{"Id": "a", "Message": "x" * 200_000}, {"Id": "b", "Message": "x" * 62_145}], "BatchRequestTooLong")):
        with pytest.raises(ClientError) as info:
            sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries)
        assert _error(info)[0] == code
    with pytest.raises(ClientError) as info:
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[])
    assert _error(info)[0] in ("EmptyBatchRequest", "ValidationError")
    assert sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "a", "Message": "x" * 200_000}, {"Id": "b", "Message": "x" * 62_144}])["Successful"]
    mixed = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "ok", "Message": "fine"}, {"Id": "bad", "Message": "x", "Subject": "s" * 101}])
    assert [s["Id"] for s in mixed["Successful"]] == ["ok"]
    assert mixed["Failed"] == [{"Id": "bad", "Code": "InvalidParameter", "Message": "Invalid parameter: Subject", "SenderFault": True}]


# --- delivery --------------------------------------------------------------------------------------------------------

def test_sqs_raw_and_enveloped(sns: Any, sqs: Any) -> None:
    arn = sns.create_topic(Name="fanout")["TopicArn"]
    raw_url, raw_arn = _queue(sqs, "raw")
    env_url, env_arn = _queue(sqs, "enveloped")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=raw_arn, Attributes={"RawMessageDelivery": "true"})
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=env_arn)["SubscriptionArn"]
    attributes = {"color": {"DataType": "String", "StringValue": "red"}, "blob": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}}
    message_id = sns.publish(TopicArn=arn, Message="hello", Subject="greeting", MessageAttributes=attributes)["MessageId"]
    assert {d.status for d in drain()} == {DeliveryStatus.DELIVERED}
    [raw] = _receive(sqs, raw_url)
    assert raw["Body"] == "hello"
    assert raw["MessageAttributes"] == {"color": {"DataType": "String", "StringValue": "red"}, "blob": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}}
    [enveloped] = _receive(sqs, env_url)
    assert "MessageAttributes" not in enveloped
    envelope = json.loads(enveloped["Body"])
    assert envelope["Type"] == "Notification" and envelope["MessageId"] == message_id and envelope["TopicArn"] == arn
    assert envelope["Subject"] == "greeting" and envelope["Message"] == "hello" and envelope["SignatureVersion"] == "1"
    assert envelope["MessageAttributes"] == {"color": {"Type": "String", "Value": "red"}, "blob": {"Type": "Binary", "Value": "AQI="}}
    assert envelope["UnsubscribeURL"].endswith("?Action=Unsubscribe&SubscriptionArn=" + sub.replace(":", "%3A"))
    assert envelope["Timestamp"].endswith("Z") and list(envelope)[:3] == ["Type", "MessageId", "TopicArn"]
    _verify(envelope)
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    sns.publish(TopicArn=arn, MessageStructure="json", Message=json.dumps({"default": "plain", "sqs": "for queues"}))
    drain()
    assert _receive(sqs, raw_url)[0]["Body"] == "for queues"
    second = json.loads(_receive(sqs, env_url)[0]["Body"])
    assert second["Message"] == "for queues" and second["SignatureVersion"] == "2" and "Subject" not in second
    _verify(second)
    with urllib.request.urlopen(envelope["UnsubscribeURL"]) as response:  # unsigned, as on AWS
        assert b"UnsubscribeResponse" in response.read()
    assert [s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]] == [raw_arn]


def test_filter_policies_decide_delivery(sns: Any, sqs: Any) -> None:
    arn = sns.create_topic(Name="filtered")["TopicArn"]
    attr_url, attr_arn = _queue(sqs, "by-attributes")
    body_url, body_arn = _queue(sqs, "by-body")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=attr_arn, Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps(
        {"store": ["example_corp"], "price_usd": [{"numeric": [">=", 100]}], "tags": [{"prefix": "sale"}]})})
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=body_arn, Attributes={"RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody",
                                                                                 "FilterPolicy": json.dumps({"order": {"status": ["paid"]}})})
    def attrs(store: str, price: str, tags: str) -> dict[str, Any]:
        return {"store": {"DataType": "String", "StringValue": store}, "price_usd": {"DataType": "Number", "StringValue": price},
                "tags": {"DataType": "String.Array", "StringValue": tags}}
    sns.publish(TopicArn=arn, Message="a1", MessageAttributes=attrs("example_corp", "150", '["new", "sale-2026"]'))
    sns.publish(TopicArn=arn, Message="a2-cheap", MessageAttributes=attrs("example_corp", "99.5", '["sale"]'))
    sns.publish(TopicArn=arn, Message="a3-other-store", MessageAttributes=attrs("other", "150", '["sale"]'))
    sns.publish(TopicArn=arn, Message=json.dumps({"order": {"status": "paid", "id": 1}}))
    sns.publish(TopicArn=arn, Message=json.dumps({"order": {"status": "open", "id": 2}}))
    sns.publish(TopicArn=arn, Message="not json at all")
    drain()
    assert [m["Body"] for m in _receive(sqs, attr_url)] == ["a1"]
    assert [json.loads(m["Body"])["order"]["id"] for m in _receive(sqs, body_url)] == [1]
    with pytest.raises(ClientError) as info:
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=attr_arn + "2", Attributes={"FilterPolicy": json.dumps({"a": [{"numeric": ["<"]}]})})
    assert _error(info)[0] == "InvalidParameter" and _error(info)[1].startswith("Invalid parameter: FilterPolicy: ")


def test_fifo_topic_to_fifo_queue_keeps_order_and_deduplicates(sns: Any, sqs: Any) -> None:
    arn = sns.create_topic(Name="ledger.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    url, queue_arn = _queue(sqs, "ledger.fifo", FifoQueue="true")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    with pytest.raises(ClientError) as info:
        sns.publish(TopicArn=arn, Message="no group")
    assert _error(info)[1] == "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    with pytest.raises(ClientError) as info:
        sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint="arn:aws:lambda:us-east-1:000000000000:function:f")
    assert _error(info)[0] == "InvalidParameter"
    sent = [sns.publish(TopicArn=arn, Message=f"m{i}", MessageGroupId="g") for i in range(5)]
    assert [s["SequenceNumber"] for s in sent] == sorted(s["SequenceNumber"] for s in sent)
    again = sns.publish(TopicArn=arn, Message="m0", MessageGroupId="g")  # content-based duplicate within 5 minutes
    assert again["MessageId"] == sent[0]["MessageId"] and again["SequenceNumber"] == sent[0]["SequenceNumber"]
    explicit = sns.publish(TopicArn=arn, Message="m0", MessageGroupId="g", MessageDeduplicationId="other")
    assert explicit["MessageId"] != sent[0]["MessageId"]
    batch = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "a", "Message": "b1", "MessageGroupId": "g"},
                                                                         {"Id": "b", "Message": "b2", "MessageGroupId": "g"}])
    assert len(batch["Successful"]) == 2 and all("SequenceNumber" in s for s in batch["Successful"])
    drain()
    bodies: list[str] = []
    for _ in range(8):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not got:
            break
        for message in got:
            assert message["Attributes"]["MessageGroupId"] == "g"
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert bodies == ["m0", "m1", "m2", "m3", "m4", "m0", "b1", "b2"]


def test_dead_letter_queue_after_client_error(sns: Any, sqs: Any) -> None:
    arn = sns.create_topic(Name="lossy")["TopicArn"]
    dlq_url, dlq_arn = _queue(sqs, "lossy-dlq")
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:never-made",
                        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})["SubscriptionArn"]
    assert sub.startswith(arn)
    sns.publish(TopicArn=arn, Message="undeliverable")
    [delivery] = drain()
    assert delivery.status == DeliveryStatus.DEAD_LETTERED and delivery.attempts == 1
    [dead] = _receive(sqs, dlq_url)
    assert json.loads(dead["Body"])["Message"] == "undeliverable"
    assert dead["MessageAttributes"]["ErrorCode"]["StringValue"] == "AWS.SimpleQueueService.NonExistentQueue"


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], dict[str, Any]]] = []
    fail_first: list[int] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Hook.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        status = 500 if _Hook.fail_first and _Hook.fail_first.pop() else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook() -> Any:
    _Hook.received = []
    _Hook.fail_first = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_http_subscription_handshake_and_notifications(sns: Any, hook: str, endpoint: str) -> None:
    arn = sns.create_topic(Name="webhooks")["TopicArn"]
    assert sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=hook)["SubscriptionArn"] == "pending confirmation"
    drain()
    [(headers, confirmation)] = _Hook.received
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation" and headers["x-amz-sns-topic-arn"] == arn
    assert confirmation["Type"] == "SubscriptionConfirmation" and confirmation["TopicArn"] == arn and confirmation["Token"]
    _verify(confirmation)
    sns.publish(TopicArn=arn, Message="not yet")  # a pending subscription receives nothing
    assert drain() and len(_Hook.received) == 1
    url = urlsplit(confirmation["SubscribeURL"])
    assert parse_qs(url.query)["Action"] == ["ConfirmSubscription"]
    with urllib.request.urlopen(f"{endpoint}/?{url.query}") as response:  # unsigned, as a subscriber calls it on AWS
        answer = response.read().decode()
    sub = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"][0]["SubscriptionArn"]
    assert f"<SubscriptionArn>{sub}</SubscriptionArn>" in answer and sub.startswith(arn + ":")
    assert sns.confirm_subscription(TopicArn=arn, Token=confirmation["Token"])["SubscriptionArn"] == sub  # the API confirms too (idempotent)
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(
        {"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 1}}))
    _Hook.fail_first = [1]  # the first notification answers 500 and is retried a second later
    message_id = sns.publish(TopicArn=arn, Message="now", Subject="hi", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})["MessageId"]
    deliveries = drain(15)
    assert deliveries[-1].status == DeliveryStatus.DELIVERED and deliveries[-1].attempts == 2
    (first_headers, first), (headers, notification) = _Hook.received[1:]
    assert first == notification
    assert headers["x-amz-sns-message-type"] == "Notification" and headers["x-amz-sns-message-id"] == message_id
    assert headers["x-amz-sns-subscription-arn"] == sub and headers["content-type"].startswith("text/plain")
    assert notification["Message"] == "now" and notification["Subject"] == "hi" and notification["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    _verify(notification)


# --- end to end: SNS -> a real Python function -----------------------------------------------------------------------

HANDLER = ("import json\n\n"
           "def handler(event, context):\n"
           "    print(json.dumps(event))\n"
           "    return event\n")
PUBLISHER = ("import boto3\n\n"
             "def handler(event, context):\n"
             "    sns = boto3.client('sns')\n"
             "    return sns.publish(TopicArn=event['topic'], Message='{\"hello\": \"world\"}', Subject='Test',\n"
             "                       MessageAttributes={'kind': {'DataType': 'String', 'StringValue': 'greeting'}})['MessageId']\n")


def test_lambda_subscriber_gets_the_sns_event(api: Any, worker: Any, kiln_web: str, settings: Any, root_key: Any) -> None:
    """A function publishes with its role's credentials; the subscribed function gets AWS's SNS event, caused by the publisher."""
    import boto3

    from invoker.models import Invocation, InvocationStatus, Trigger
    from tests.aws.conftest import REGION, allow_role, wait_invocation
    from tests.conftest import invoke

    settings.KILN_PUBLIC_URL = kiln_web
    sns = boto3.client("sns", endpoint_url=kiln_web, region_name=REGION, aws_access_key_id=root_key[0], aws_secret_access_key=root_key[1])
    arn = sns.create_topic(Name="to-lambda")["TopicArn"]
    allow_role("publisher", ["sns:Publish"], arn)
    for name, source, role in (("on-sns", HANDLER, None), ("publisher", PUBLISHER, "publisher")):
        body = {"name": name, "runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": source}}, "timeout": 30}
        response = api.post("/api/v1/functions/", {**body, "role": role} if role else body, format="json")
        assert response.status_code == 201, response.content
    sub = sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint="arn:aws:lambda:us-east-1:000000000000:function:on-sns")["SubscriptionArn"]
    published = invoke(api, "publisher", {"topic": arn})
    assert published.status_code == 200, published.content
    publisher = Invocation.objects.get(function_name="publisher")
    message_id = json.loads(publisher.result)
    invocation = wait_invocation({"trigger": Trigger.TOPIC}, seconds=90)
    assert invocation.status == InvocationStatus.SUCCEEDED, invocation.logs
    assert invocation.trigger_detail == {"topic_arn": arn, "message_id": message_id, "subscription_arn": sub}
    assert invocation.parent_id == publisher.id and invocation.invocation_type == "Event"
    event = json.loads(invocation.result)
    [record] = event["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0" and record["EventSubscriptionArn"] == sub
    assert record["Sns"]["Message"] == '{"hello": "world"}' and record["Sns"]["MessageId"] == message_id and record["Sns"]["Subject"] == "Test"
    assert record["Sns"]["Type"] == "Notification" and record["Sns"]["TopicArn"] == arn and record["Sns"]["SignatureVersion"] == "1"
    assert record["Sns"]["MessageAttributes"] == {"kind": {"Type": "String", "Value": "greeting"}}
    assert record["Sns"]["SigningCertUrl"] == kiln_web + "/sns/SimpleNotificationService-kiln.pem"
    assert record["Sns"]["UnsubscribeUrl"].startswith(kiln_web + "/?Action=Unsubscribe&SubscriptionArn=")
    _verify({**record["Sns"], "SigningCertURL": record["Sns"]["SigningCertUrl"]})
    from aws_lambda_powertools.utilities.parser.models import SnsModel

    parsed = SnsModel.model_validate(event)
    assert parsed.Records[0].Sns.MessageId == message_id and parsed.Records[0].Sns.TopicArn == arn
    for _ in range(50):
        if Topic.objects.get(name="to-lambda").messages.first().deliveries.first().status == DeliveryStatus.DELIVERED:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the delivery was not finished")


def test_lambda_dead_letter_config_to_a_queue_and_a_topic(worker: Any, root: Callable[[str], Any], sns: Any, sqs: Any) -> None:
    """DeadLetterConfig: an event that failed for good goes to the queue (or topic) as Lambda sends it."""
    import io
    import zipfile

    from iam.models import Role

    Role.objects.create(name="dlq-role")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    raise ValueError('always fails')\n")
    lam = root("lambda")
    dlq_url, dlq_arn = _queue(sqs, "fn-dlq")
    common = {"Runtime": "python3.11", "Role": "arn:aws:iam::000000000000:role/dlq-role", "Handler": "app.handler", "Code": {"ZipFile": buffer.getvalue()}}
    with pytest.raises(ClientError) as info:
        lam.create_function(FunctionName="doomed", DeadLetterConfig={"TargetArn": dlq_arn + "-missing"}, **common)
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert not lam.list_functions()["Functions"]  # nothing half-made
    created = lam.create_function(FunctionName="doomed", DeadLetterConfig={"TargetArn": dlq_arn}, **common)
    assert created["DeadLetterConfig"] == {"TargetArn": dlq_arn}
    lam.put_function_event_invoke_config(FunctionName="doomed", MaximumRetryAttempts=0)
    lam.invoke(FunctionName="doomed", InvocationType="Event", Payload=b'{"order": 7}')
    got = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=20, MessageAttributeNames=["All"]).get("Messages", [])
    assert got, "the failed event did not reach the dead-letter queue"
    assert json.loads(got[0]["Body"]) == {"order": 7}
    attributes = got[0]["MessageAttributes"]
    from invoker.models import Invocation

    assert attributes["RequestID"]["StringValue"] == str(Invocation.objects.get(function_name="doomed").id) and attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert "always fails" in attributes["ErrorMessage"]["StringValue"]
    topic_arn = sns.create_topic(Name="fn-dlq-topic")["TopicArn"]
    fanned_url, fanned_arn = _queue(sqs, "fn-dlq-fanned")
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=fanned_arn, Attributes={"RawMessageDelivery": "true"})
    updated = lam.update_function_configuration(FunctionName="doomed", DeadLetterConfig={"TargetArn": topic_arn})
    assert updated["DeadLetterConfig"] == {"TargetArn": topic_arn}
    lam.invoke(FunctionName="doomed", InvocationType="Event", Payload=b'{"order": 8}')
    got = sqs.receive_message(QueueUrl=fanned_url, WaitTimeSeconds=20, MessageAttributeNames=["All"]).get("Messages", [])
    assert got and json.loads(got[0]["Body"]) == {"order": 8} and "always fails" in got[0]["MessageAttributes"]["ErrorMessage"]["StringValue"]
