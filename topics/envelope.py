"""What subscribers receive: SNS's JSON envelope (signed), the HTTP headers, and Lambda's SNS event.

URLs in the envelope (``SubscribeURL``, ``UnsubscribeURL``, ``SigningCertURL``) are under ``KILN_PUBLIC_URL``:
``/?Action=ConfirmSubscription&TopicArn=..&Token=..`` and ``/?Action=Unsubscribe&SubscriptionArn=..`` are answered
unsigned, as SNS answers them (``topics.views``).
"""

from __future__ import annotations

import datetime
import json
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from topics.models import Message, Subscription
from topics.signing import CERT_PATH, sign


def timestamp(at: datetime.datetime) -> str:
    at = at.astimezone(datetime.UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def base_url() -> str:
    return settings.KILN_PUBLIC_URL.rstrip("/")


def cert_url() -> str:
    return base_url() + CERT_PATH


def unsubscribe_url(subscription: Subscription) -> str:
    return f"{base_url()}/?{urlencode({'Action': 'Unsubscribe', 'SubscriptionArn': subscription.arn})}"


def subscribe_url(subscription: Subscription) -> str:
    return f"{base_url()}/?{urlencode({'Action': 'ConfirmSubscription', 'TopicArn': subscription.topic.arn, 'Token': subscription.token})}"


def _signature_version(subscription: Subscription) -> str:
    return str((subscription.topic.extra_attributes or {}).get("SignatureVersion") or "1")


def envelope_attributes(message: Message) -> dict[str, dict[str, str]]:
    """Message attributes as the envelope and Lambda's event carry them: ``{"Type": DataType, "Value": ...}``."""
    return {name: {"Type": value["DataType"], "Value": value.get("StringValue", value.get("BinaryValue", ""))} for name, value in message.attributes.items()}


def notification(message: Message, subscription: Subscription) -> dict[str, Any]:
    """The JSON envelope of a notification, signed, in SNS's field order."""
    envelope: dict[str, Any] = {"Type": "Notification", "MessageId": str(message.message_id)}
    if subscription.topic.fifo:
        envelope["SequenceNumber"] = message.sequence_number
    envelope["TopicArn"] = subscription.topic.arn
    if message.subject:
        envelope["Subject"] = message.subject
    envelope.update({"Message": message.body_for(subscription.protocol), "Timestamp": timestamp(message.published_at),
                     "SignatureVersion": _signature_version(subscription)})
    envelope["Signature"] = sign(envelope, envelope["SignatureVersion"])
    envelope["SigningCertURL"] = cert_url()
    envelope["UnsubscribeURL"] = unsubscribe_url(subscription)
    if message.attributes:
        envelope["MessageAttributes"] = envelope_attributes(message)
    return envelope


def confirmation(subscription: Subscription, *, message_id: str, at: datetime.datetime) -> dict[str, Any]:
    """The ``SubscriptionConfirmation`` posted to a new http/https subscription."""
    topic_arn = subscription.topic.arn
    envelope: dict[str, Any] = {
        "Type": "SubscriptionConfirmation", "MessageId": message_id, "Token": subscription.token, "TopicArn": topic_arn,
        "Message": f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": subscribe_url(subscription), "Timestamp": timestamp(at), "SignatureVersion": _signature_version(subscription)}
    envelope["Signature"] = sign(envelope, envelope["SignatureVersion"])
    envelope["SigningCertURL"] = cert_url()
    return envelope


def http_headers(envelope: dict[str, Any], subscription: Subscription, *, content_type: str) -> dict[str, str]:
    headers = {"Content-Type": content_type, "User-Agent": "Amazon Simple Notification Service Agent",
               "x-amz-sns-message-type": envelope["Type"], "x-amz-sns-message-id": envelope["MessageId"], "x-amz-sns-topic-arn": subscription.topic.arn}
    if envelope["Type"] == "Notification":
        headers["x-amz-sns-subscription-arn"] = subscription.arn
    if subscription.raw_message_delivery and envelope["Type"] == "Notification":
        headers["x-amz-sns-rawdelivery"] = "true"
    return headers


def lambda_event(message: Message, subscription: Subscription) -> dict[str, Any]:
    """Lambda's SNS event for one message (one record, as SNS invokes Lambda)."""
    envelope = notification(message, subscription)
    sns: dict[str, Any] = {"Type": "Notification", "MessageId": envelope["MessageId"], "TopicArn": envelope["TopicArn"],
                           "Subject": envelope.get("Subject"), "Message": envelope["Message"], "Timestamp": envelope["Timestamp"],
                           "SignatureVersion": envelope["SignatureVersion"], "Signature": envelope["Signature"],
                           "SigningCertUrl": envelope["SigningCertURL"], "UnsubscribeUrl": envelope["UnsubscribeURL"],
                           "MessageAttributes": envelope.get("MessageAttributes", {})}
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription.arn, "Sns": sns}]}


def envelope_text(envelope: dict[str, Any]) -> str:
    return json.dumps(envelope, ensure_ascii=False)


def sample_event() -> dict[str, Any]:
    """A test event of the shape SNS delivers (the console's template), built by the code that builds the real ones."""
    import uuid as _uuid

    from django.utils import timezone

    from topics.models import Topic

    topic = Topic(name="example-topic")
    subscription = Subscription(topic=topic, protocol="lambda", endpoint="arn:aws:lambda:us-east-1:000000000000:function:example",
                                subscription_id=_uuid.UUID("2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"))
    message = Message(topic=topic, id=1, message_id=_uuid.UUID("95df01b4-ee98-5cb9-9903-4c221d41eb5e"), subject="example subject",
                      body="example message", attributes={"Test": {"DataType": "String", "StringValue": "TestString"}}, published_at=timezone.now())
    return lambda_event(message, subscription)
