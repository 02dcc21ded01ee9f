"""The topics app without the wire: services, publish checks, delivery claims and retries, signing, the unsigned links."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.utils import timezone

from core.errors import KilnError
from queues.messages import message_receive
from queues.services import queue_create
from tests.topics.helpers import deliver_here, drain  # noqa: F401  (deliver_here: an autouse fixture)
from tests.waiting import until
from topics import delivery as deliveries
from topics import publish, services
from topics.filters import filter_matches
from topics.models import Delivery, DeliveryStatus, Subscription, Topic
from topics.signing import certificate_pem, sign, string_to_sign

pytestmark = pytest.mark.django_db(transaction=True)


def _publish(topic: Topic, message: str, **kwargs: Any) -> publish.Published:
    return publish.message_publish(topic=topic, outgoing=publish.message_validate(topic=topic, message=message, **kwargs))


def test_create_topic_is_idempotent_and_checks_attributes() -> None:
    topic = services.topic_create(name="t", attributes={"DisplayName": "T"}, tags={"a": "1"})
    assert services.topic_create(name="t", attributes={"DisplayName": "T"}, tags={"a": "1"}).pk == topic.pk
    with pytest.raises(KilnError) as info:
        services.topic_create(name="t", tags={"a": "2"})
    assert info.value.message == "Invalid parameter: Tags Reason: Topic already exists with different tags"
    with pytest.raises(KilnError) as info:
        services.topic_create(name="x", tags={f"k{i}": "v" for i in range(51)})
    assert info.value.code == "TagLimitExceeded"
    services.topic_create(name="x", tags={f"k{i}": "v" for i in range(50)})
    with pytest.raises(KilnError):
        services.topic_create(name="m", attributes={"MaximumMessageSize": "1023"})
    small = services.topic_create(name="m", attributes={"MaximumMessageSize": "1024"})
    publish.message_validate(topic=small, message="x" * 1024)
    with pytest.raises(KilnError) as info:
        publish.message_validate(topic=small, message="x" * 1025)
    assert info.value.message == "Invalid parameter: Message too long"


def test_filter_adapter() -> None:
    attributes = {"n": {"DataType": "Number", "StringValue": "5"}, "s": {"DataType": "String", "StringValue": "blue"}}
    assert filter_matches("", "MessageAttributes", attributes=attributes, body="")
    assert filter_matches('{"n": [{"numeric": [">", 1]}], "s": [{"anything-but": "red"}]}', "MessageAttributes", attributes=attributes, body="")
    assert not filter_matches('{"s": ["red"]}', "MessageAttributes", attributes=attributes, body="")
    assert filter_matches('{"a": {"b": [{"exists": true}]}}', "MessageBody", attributes={}, body='{"a": {"b": 0}}')
    assert not filter_matches('{"a": {"b": [{"exists": true}]}}', "MessageBody", attributes={}, body="plain text")
    with pytest.raises(KilnError) as info:
        services.subscription_create(topic=services.topic_create(name="f"), protocol="sqs", endpoint="arn:aws:sqs:us-east-1:000000000000:q",
                                     attributes={"FilterPolicy": '{"a": "b"}'})
    assert info.value.code == "InvalidParameter" and info.value.message.startswith("Invalid parameter: FilterPolicy: ")


def test_a_claim_happens_once_and_fifo_groups_go_in_order() -> None:
    topic = services.topic_create(name="o.fifo", attributes={"FifoTopic": "true"})
    queue = queue_create(name="o.fifo", attributes={"FifoQueue": "true"})
    services.subscription_create(topic=topic, protocol="sqs", endpoint=queue.arn, attributes={"RawMessageDelivery": "true"})
    for i in range(3):
        _publish(topic, f"m{i}", group_id="g", deduplication_id=f"d{i}")
    _publish(topic, "other", group_id="h", deduplication_id="dh")
    first, second, third, other = Delivery.objects.order_by("id")
    assert deliveries.delivery_run(third.pk) is None  # earlier deliveries of its group are open
    assert deliveries.delivery_run(other.pk) == DeliveryStatus.DELIVERED  # another group is not held up
    assert deliveries.delivery_run(first.pk) == DeliveryStatus.DELIVERED
    assert deliveries.delivery_run(first.pk) is None  # finished exactly once
    assert deliveries.delivery_run(second.pk) == DeliveryStatus.DELIVERED
    drain()
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 4
    assert list(queue.messages.filter(group_id="g").order_by("id").values_list("body", flat=True)) == ["m0", "m1", "m2"]
    assert [r.message.body for r in message_receive(queue=queue, max_messages=10)] == ["other", "m0", "m1", "m2"]  # in the order delivered


def test_missing_targets_are_client_errors_not_retried() -> None:
    topic = services.topic_create(name="gone")
    services.subscription_create(topic=topic, protocol="lambda", endpoint="arn:aws:lambda:us-east-1:000000000000:function:nobody")
    _publish(topic, "hello")
    [row] = drain()
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1 and "Function not found" in row.last_error


def test_http_retry_delays_follow_the_delivery_policy() -> None:
    topic = services.topic_create(name="web")
    sub = Subscription.objects.create(topic=topic, protocol="http", endpoint="http://127.0.0.1:9/", confirmed=True,
                                      delivery_policy=json.dumps({"healthyRetryPolicy": {"numRetries": 5, "numNoDelayRetries": 1, "numMinDelayRetries": 1,
                                                                                         "minDelayTarget": 2, "maxDelayTarget": 10, "backoffFunction": "linear"}}))
    assert [deliveries._http_delay(sub, n) for n in range(1, 7)] == [0.0, 2.0, pytest.approx(2 + 8 / 3), pytest.approx(2 + 16 / 3), 10.0, None]
    sub.delivery_policy = ""
    assert [deliveries._http_delay(sub, n) for n in range(1, 5)] == [20.0, 20.0, 20.0, None]  # AWS's default: 3 retries, 20 s apart


def test_unreachable_http_endpoint_is_retried_then_dropped() -> None:
    topic = services.topic_create(name="down")
    Subscription.objects.create(topic=topic, protocol="http", endpoint="http://127.0.0.1:9/", confirmed=True,
                                delivery_policy=json.dumps({"healthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 1, "maxDelayTarget": 1}}))
    _publish(topic, "hello")
    [row] = drain(10)
    assert row.status == DeliveryStatus.FAILED and row.attempts == 2 and row.last_error.startswith("ConnectionError")


def test_sweep_sends_stale_claims_again() -> None:
    topic = services.topic_create(name="swept")
    queue = queue_create(name="swept")
    services.subscription_create(topic=topic, protocol="sqs", endpoint=queue.arn)
    _publish(topic, "hello")
    row = Delivery.objects.get()
    long_ago = timezone.now() - datetime.timedelta(minutes=10)
    Delivery.objects.filter(pk=row.pk).update(status=DeliveryStatus.DELIVERING, claimed_at=long_ago, attempts=1)
    assert deliveries.deliveries_sweep() == 0  # re-opened now; due for the next sweep
    assert deliveries.deliveries_sweep(now=timezone.now() + datetime.timedelta(seconds=10)) == 1
    assert deliveries.delivery_run(row.pk) == DeliveryStatus.DELIVERED
    assert queue.messages.count() == 1


def test_signature_verifies_with_the_certificate() -> None:
    envelope = {"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:000000000000:t", "Message": "hi",
                "Timestamp": "2026-01-01T00:00:00.000Z"}
    assert string_to_sign(envelope) == b"Message\nhi\nMessageId\nm\nTimestamp\n2026-01-01T00:00:00.000Z\nTopicArn\narn:aws:sns:us-east-1:000000000000:t\nType\nNotification\n"
    key = x509.load_pem_x509_certificate(certificate_pem()).public_key()
    for version, digest in (("1", hashes.SHA1()), ("2", hashes.SHA256())):
        key.verify(base64.b64decode(sign(envelope, version)), string_to_sign(envelope), padding.PKCS1v15(), digest)  # type: ignore[call-arg,arg-type]


def test_unsigned_confirm_and_unsubscribe_links(client: Any) -> None:
    topic = services.topic_create(name="links")
    sub = services.subscription_create(topic=topic, protocol="https", endpoint="https://example.invalid/hook")
    assert not sub.confirmed and Delivery.objects.filter(kind="confirmation").count() == 1
    bad = client.get("/", {"Action": "ConfirmSubscription", "TopicArn": topic.arn, "Token": "nope"})
    assert bad.status_code == 400 and b"<Code>InvalidParameter</Code>" in bad.content
    good = client.get("/", {"Action": "ConfirmSubscription", "TopicArn": topic.arn, "Token": sub.token})
    assert good.status_code == 200 and sub.arn.encode() in good.content
    assert Subscription.objects.get(pk=sub.pk).confirmed
    assert client.get("/", {"Action": "Unsubscribe", "SubscriptionArn": sub.arn}).status_code == 200
    assert not Subscription.objects.filter(pk=sub.pk).exists()
    assert client.get("/").status_code == 302  # anything else: the console
    assert client.get("/sns/SimpleNotificationService-kiln.pem").content.startswith(b"-----BEGIN CERTIFICATE-----")


def test_old_messages_are_pruned_once_their_deliveries_are_final() -> None:
    topic = services.topic_create(name="pruned")
    queue = queue_create(name="pruned")
    services.subscription_create(topic=topic, protocol="sqs", endpoint=queue.arn)
    _publish(topic, "delivered")
    _publish(topic, "open")
    done, open_row = Delivery.objects.order_by("id")
    deliveries.delivery_run(done.pk)
    later = timezone.now() + datetime.timedelta(days=2)
    assert deliveries.messages_prune(now=later) == 2  # the delivered message and its delivery
    assert list(topic.messages.values_list("body", flat=True)) == ["open"] and Delivery.objects.get().pk == open_row.pk


def test_eventbridge_rule_targets_a_topic() -> None:
    """buses' SNS target kind finds ``topic_publish_event``: a rule's event reaches the topic's subscribers."""
    from buses import services as buses
    from buses.delivery import delivery_run as bus_delivery_run
    from buses.models import Delivery as BusDelivery
    from buses.models import DeliveryState
    from buses.selectors import bus_get

    topic = services.topic_create(name="from-rules")
    queue = queue_create(name="from-rules")
    services.subscription_create(topic=topic, protocol="sqs", endpoint=queue.arn, attributes={"RawMessageDelivery": "true"})
    rule = buses.rule_put(bus=bus_get("default"), data=buses.RuleInput(name="r", event_pattern=json.dumps({"source": ["shop"]}), schedule_expression=None))
    buses.targets_put(rule=rule, targets=[{"Id": "t", "Arn": topic.arn}])
    buses.events_put([{"Source": "shop", "DetailType": "Order Placed", "Detail": json.dumps({"total": 5})}])
    # Run here, unless a worker left running by an earlier test claimed it first (the enqueue follows the commit).
    bus_delivery_run(str(BusDelivery.objects.get().pk))
    until(lambda: BusDelivery.objects.get().state == DeliveryState.SUCCEEDED, 30)
    drain()
    [message] = queue.messages.all()
    assert json.loads(message.body)["detail"] == {"total": 5}
    with pytest.raises(KilnError) as info:
        services.topic_publish_event(topic_arn=topic.arn + "-gone", message="x")
    assert info.value.status == 404
