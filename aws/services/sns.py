"""SNS adapter (query protocol, as every SDK speaks SNS): thin, over ``topics``.

Each handler asks IAM first (``sns:<Action>`` on the topic's ARN; ``sns:ListTopics`` / ``sns:ListSubscriptions``
on ``arn:aws:sns:<region>:<account>:*``) and answers a denial with SNS's own code, ``AuthorizationError`` (403).
Domain errors carry SNS's codes already (``NotFound``, ``InvalidParameter``, ``ParameterValueInvalid``, the batch
codes). PublishBatch authorizes ``sns:Publish``, as IAM does for SNS.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.http import HttpResponse

from aws.context import AwsContext
from aws.dispatch import query_dispatch
from aws.errors import AwsError
from aws.registry import operation
from core.errors import KilnError
from topics import publish, services
from topics.attributes import subscription_attributes, topic_attributes
from topics.errors import TopicError, invalid
from topics.limits import LIST_PAGE
from topics.models import Subscription, Topic
from topics.selectors import subscription_counts, subscription_get, subscription_list, topic_get, topic_list, topic_name_of

DOMAIN_CODES = {"*NotFound": ("NotFound", 404), "*Invalid": ("InvalidParameter", 400)}
PENDING = "PendingConfirmation"


def dispatch(ctx: AwsContext, *, verification: object, body: bytes | None) -> HttpResponse:
    try:
        return query_dispatch(ctx, body=body or b"")
    except AwsError as error:
        if error.code == "AccessDenied":  # ctx.authorize's denial, in SNS's words
            raise AwsError("AuthorizationError", error.message, status=403) from None
        raise


def _any_arn(suffix: str = "*") -> str:
    return f"arn:aws:sns:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:{suffix}"


def _topic(ctx: AwsContext, arn: str, action: str, *, parameter: str = "TopicArn") -> Topic:
    """The topic, once IAM allows ``action`` on it (asked before the topic is looked up, as AWS does)."""
    topic_name_of(arn, parameter=parameter)
    ctx.authorize(f"sns:{action}", arn)
    return topic_get(arn, parameter=parameter)


def _subscription(ctx: AwsContext, arn: str, action: str) -> Subscription:
    subscription = subscription_get(arn)
    ctx.authorize(f"sns:{action}", subscription.topic.arn)
    return subscription


def _token(value: str | None) -> str:
    if not value:
        return ""
    try:
        decoded = base64.b64decode(value.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise invalid("NextToken") from None
    if not decoded:
        raise invalid("NextToken")
    return decoded


def _next(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _tags(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {item.get("Key", ""): item.get("Value", "") for item in (items or [])}


# --- topics ----------------------------------------------------------------------------------------------------------

@operation("sns", "CreateTopic")
def create_topic(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["Name"]
    ctx.authorize("sns:CreateTopic", _any_arn(name))
    attributes = dict(params.get("Attributes") or {})
    if params.get("DataProtectionPolicy"):
        attributes["DataProtectionPolicy"] = params["DataProtectionPolicy"]
    tags = _tags(params.get("Tags"))
    if tags:
        ctx.authorize("sns:TagResource", _any_arn(name))
    return {"TopicArn": services.topic_create(name=name, attributes=attributes, tags=tags).arn}


@operation("sns", "DeleteTopic")
def delete_topic(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["TopicArn"]
    topic_name_of(arn)
    ctx.authorize("sns:DeleteTopic", arn)
    try:
        services.topic_delete(topic=topic_get(arn))
    except KilnError as error:
        if error.code != "NotFound":
            raise
    return {}  # idempotent, as on AWS


@operation("sns", "ListTopics")
def list_topics(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("sns:ListTopics", _any_arn())
    found = topic_list(after=_token(params.get("NextToken")), limit=LIST_PAGE + 1)
    shown = found[:LIST_PAGE]
    out: dict[str, Any] = {"Topics": [{"TopicArn": t.arn} for t in shown]}
    if len(found) > LIST_PAGE:
        out["NextToken"] = _next(shown[-1].name)
    return out


@operation("sns", "GetTopicAttributes")
def get_topic_attributes(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    topic = _topic(ctx, params["TopicArn"], "GetTopicAttributes")
    return {"Attributes": topic_attributes(topic, subscription_counts(topic))}


@operation("sns", "SetTopicAttributes")
def set_topic_attributes(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    topic = _topic(ctx, params["TopicArn"], "SetTopicAttributes")
    services.topic_set_attribute(topic=topic, name=params["AttributeName"], value=params.get("AttributeValue") or "")
    return {}


# --- subscriptions ---------------------------------------------------------------------------------------------------

def _listed(subscription: Subscription) -> dict[str, Any]:
    return {"SubscriptionArn": subscription.arn if subscription.confirmed else PENDING, "Owner": subscription.owner or settings.KILN_ACCOUNT_ID,
            "Protocol": subscription.protocol, "Endpoint": subscription.endpoint, "TopicArn": subscription.topic.arn}


@operation("sns", "Subscribe")
def subscribe(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    topic = _topic(ctx, params["TopicArn"], "Subscribe")
    subscription = services.subscription_create(topic=topic, protocol=params["Protocol"], endpoint=params.get("Endpoint") or "",
                                                attributes=params.get("Attributes"), owner=ctx.principal.account)
    shown = subscription.arn if (subscription.confirmed or params.get("ReturnSubscriptionArn")) else "pending confirmation"
    return {"SubscriptionArn": shown}


@operation("sns", "ConfirmSubscription")
def confirm_subscription(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    topic = _topic(ctx, params["TopicArn"], "ConfirmSubscription")
    authenticated = str(params.get("AuthenticateOnUnsubscribe") or "").lower() == "true"
    return {"SubscriptionArn": services.subscription_confirm(topic=topic, token=params["Token"], authenticated=authenticated).arn}


@operation("sns", "Unsubscribe")
def unsubscribe(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.subscription_delete(subscription=_subscription(ctx, params["SubscriptionArn"], "Unsubscribe"))
    return {}


@operation("sns", "ListSubscriptions")
def list_subscriptions(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("sns:ListSubscriptions", _any_arn())
    return _page(None, params)


@operation("sns", "ListSubscriptionsByTopic")
def list_subscriptions_by_topic(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return _page(_topic(ctx, params["TopicArn"], "ListSubscriptionsByTopic"), params)


def _page(topic: Topic | None, params: dict[str, Any]) -> dict[str, Any]:
    after = _token(params.get("NextToken"))
    if after and not after.isdigit():
        raise invalid("NextToken")
    found = subscription_list(topic=topic, after=int(after or 0), limit=LIST_PAGE + 1)
    shown = found[:LIST_PAGE]
    out: dict[str, Any] = {"Subscriptions": [_listed(s) for s in shown]}
    if len(found) > LIST_PAGE:
        out["NextToken"] = _next(str(shown[-1].pk))
    return out


@operation("sns", "GetSubscriptionAttributes")
def get_subscription_attributes(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"Attributes": subscription_attributes(_subscription(ctx, params["SubscriptionArn"], "GetSubscriptionAttributes"))}


@operation("sns", "SetSubscriptionAttributes")
def set_subscription_attributes(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    subscription = _subscription(ctx, params["SubscriptionArn"], "SetSubscriptionAttributes")
    services.subscription_set_attribute(subscription=subscription, name=params["AttributeName"], value=params.get("AttributeValue") or "")
    return {}


# --- publishing ------------------------------------------------------------------------------------------------------

def _outgoing(topic: Topic, entry: dict[str, Any]) -> publish.Outgoing:
    return publish.message_validate(topic=topic, message=entry.get("Message"), subject=entry.get("Subject"), structure=entry.get("MessageStructure"),
                                    attributes=entry.get("MessageAttributes"), group_id=entry.get("MessageGroupId"),
                                    deduplication_id=entry.get("MessageDeduplicationId"))


def _published(result: publish.Published) -> dict[str, Any]:
    out = {"MessageId": result.message_id}
    if result.sequence_number:
        out["SequenceNumber"] = result.sequence_number
    return out


@operation("sns", "Publish")
def publish_message(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("PhoneNumber"):
        raise invalid("PhoneNumber Reason: Kiln does not send SMS messages")
    arn = params.get("TopicArn") or params.get("TargetArn")
    if not arn:
        raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
    topic = _topic(ctx, arn, "Publish", parameter="TopicArn" if params.get("TopicArn") else "TargetArn")
    return _published(publish.message_publish(topic=topic, outgoing=_outgoing(topic, params), parent_invocation_id=ctx.principal.invocation_id))


@operation("sns", "PublishBatch")
def publish_batch(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    topic = _topic(ctx, params["TopicArn"], "Publish")
    entries = params.get("PublishBatchRequestEntries") or []
    publish.batch_check([e.get("Id", "") for e in entries])
    ready: list[tuple[str, publish.Outgoing]] = []
    failed: list[dict[str, Any]] = []
    for entry in entries:
        try:
            ready.append((entry["Id"], _outgoing(topic, entry)))
        except TopicError as error:
            failed.append({"Id": entry["Id"], "Code": error.code, "Message": error.message, "SenderFault": error.status < 500})
    publish.batch_size_check(sum(outgoing.size for _, outgoing in ready), topic)
    successful = [{"Id": entry_id, **_published(publish.message_publish(topic=topic, outgoing=outgoing, parent_invocation_id=ctx.principal.invocation_id))}
                  for entry_id, outgoing in ready]
    return {"Successful": successful, "Failed": failed}


# --- tags ------------------------------------------------------------------------------------------------------------

def _tagged(ctx: AwsContext, arn: str, action: str) -> Topic:
    try:
        return _topic(ctx, arn, action, parameter="ResourceArn")
    except KilnError as error:
        if error.code == "NotFound":
            raise TopicError("Resource does not exist", code="ResourceNotFound") from None
        raise


@operation("sns", "TagResource")
def tag_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.topic_tag(topic=_tagged(ctx, params["ResourceArn"], "TagResource"), tags=_tags(params.get("Tags")))
    return {}


@operation("sns", "UntagResource")
def untag_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.topic_untag(topic=_tagged(ctx, params["ResourceArn"], "UntagResource"), keys=list(params.get("TagKeys") or []))
    return {}


@operation("sns", "ListTagsForResource")
def list_tags_for_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": services.tags_of(_tagged(ctx, params["ResourceArn"], "ListTagsForResource"))}
