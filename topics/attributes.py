"""Topic and subscription attributes: validated from the wire's strings, rendered back as GetXAttributes shows them."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings

from topics import limits
from topics.errors import invalid
from topics.filters import filter_policy_check

TOPIC_SETTABLE = {"DeliveryPolicy", "DisplayName", "Policy", "KmsMasterKeyId", "SignatureVersion", "TracingConfig", "ContentBasedDeduplication",
                  "ArchivePolicy", "FifoThroughputScope", "DataProtectionPolicy", "MaximumMessageSize",
                  "HTTPSuccessFeedbackRoleArn", "HTTPFailureFeedbackRoleArn", "HTTPSuccessFeedbackSampleRate",
                  "LambdaSuccessFeedbackRoleArn", "LambdaFailureFeedbackRoleArn", "LambdaSuccessFeedbackSampleRate",
                  "SQSSuccessFeedbackRoleArn", "SQSFailureFeedbackRoleArn", "SQSSuccessFeedbackSampleRate"}
TOPIC_CREATE_ONLY = {"FifoTopic"}
SUBSCRIPTION_SETTABLE = {"DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "SubscriptionRoleArn", "ReplayPolicy"}
_SQS_ARN = re.compile(r"^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")
_BOOL = {"true": True, "false": False}

DEFAULT_HTTP_POLICY: dict[str, Any] = {
    "http": {"defaultHealthyRetryPolicy": {"minDelayTarget": limits.HTTP_DELAY_DEFAULT, "maxDelayTarget": limits.HTTP_DELAY_DEFAULT,
                                           "numRetries": limits.HTTP_RETRIES_DEFAULT, "numMaxDelayRetries": 0, "numNoDelayRetries": 0,
                                           "numMinDelayRetries": 0, "backoffFunction": "linear"},
             "disableSubscriptionOverrides": False, "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}}


def default_policy(topic_arn: str) -> str:
    """The access policy AWS gives a new topic: the owner's account may do everything to it."""
    actions = ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic",
               "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"]
    return json.dumps({"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [{
        "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": actions, "Resource": topic_arn,
        "Condition": {"StringEquals": {"AWS:SourceOwner": settings.KILN_ACCOUNT_ID}}}]}, separators=(",", ":"))


def boolean(name: str, value: str) -> bool:
    try:
        return _BOOL[str(value).lower()]
    except KeyError:
        raise invalid(f"Attributes Reason: {name}: Invalid value [{value}]. Must be true or false.") from None


def _json_object(name: str, value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except ValueError:
        raise invalid(f"{name}: failed to parse JSON.") from None
    if not isinstance(parsed, dict):
        raise invalid(f"{name}: the policy must be a JSON object.")
    return parsed


def delivery_policy_check(value: str, *, subscription: bool) -> None:
    """A DeliveryPolicy: JSON whose HTTP retry policy stays within AWS's bounds (at most an hour of retries in all)."""
    if not value:
        return
    policy = _json_object("DeliveryPolicy", value)
    retry = policy.get("healthyRetryPolicy") if subscription else (policy.get("http") or {}).get("defaultHealthyRetryPolicy")
    if retry is None:
        return
    try:
        retries, low, high = int(retry.get("numRetries", 3)), int(retry.get("minDelayTarget", 20)), int(retry.get("maxDelayTarget", 20))
    except (TypeError, ValueError):
        raise invalid("DeliveryPolicy: numRetries, minDelayTarget and maxDelayTarget must be integers.") from None
    if not 0 <= retries <= 100 or not 1 <= low <= high or high > limits.HTTP_RETRY_TOTAL_MAX or retries * low > limits.HTTP_RETRY_TOTAL_MAX:
        raise invalid(f"DeliveryPolicy: numRetries must be 0 to 100, 1 <= minDelayTarget <= maxDelayTarget, and the retries may take at most {limits.HTTP_RETRY_TOTAL_MAX} seconds in all.")


def topic_fields(attributes: dict[str, str], *, fifo: bool, creating: bool) -> dict[str, Any]:
    """Model fields from topic attributes; unknown names and bad values are ``InvalidParameter``."""
    fields: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for name, value in attributes.items():
        if name not in TOPIC_SETTABLE and not (creating and name in TOPIC_CREATE_ONLY):
            raise invalid("AttributeName")
        if name == "FifoTopic":
            continue  # decided with the name
        if name == "ContentBasedDeduplication":
            on = boolean(name, value)
            if on and not fifo:
                raise invalid("ContentBasedDeduplication Reason: Content based deduplication can only be set for FIFO topics")
            fields["content_based_deduplication"] = on
        elif name == "DisplayName":
            if len(value) > limits.DISPLAY_NAME_MAX:
                raise invalid(f"DisplayName Reason: DisplayName must be at most {limits.DISPLAY_NAME_MAX} characters")
            fields["display_name"] = value
        elif name == "Policy":
            if value:
                _json_object("Policy", value)
            fields["policy"] = value
        elif name == "DeliveryPolicy":
            delivery_policy_check(value, subscription=False)
            fields["delivery_policy"] = value
        elif name == "MaximumMessageSize":
            try:
                size = int(value)
            except ValueError:
                size = -1
            if not 1024 <= size <= 1_048_576:
                raise invalid("MaximumMessageSize Reason: must be an integer from 1024 to 1048576")
            extra[name] = str(size)
        elif name == "FifoThroughputScope" and (not fifo or value not in ("Topic", "MessageGroup")):
            raise invalid("FifoThroughputScope Reason: FifoThroughputScope applies to FIFO topics and must be Topic or MessageGroup")
        else:
            extra[name] = value
    if extra:
        fields["extra_attributes"] = extra
    return fields


def topic_attributes(topic: Any, counts: dict[str, int]) -> dict[str, str]:
    out = {"TopicArn": topic.arn, "Owner": settings.KILN_ACCOUNT_ID, "Policy": topic.policy or default_policy(topic.arn),
           "DisplayName": topic.display_name, "SubscriptionsConfirmed": str(counts.get("confirmed", 0)),
           "SubscriptionsPending": str(counts.get("pending", 0)), "SubscriptionsDeleted": str(topic.subscriptions_deleted),
           "EffectiveDeliveryPolicy": json.dumps(effective_topic_policy(topic), separators=(",", ":"))}
    if topic.delivery_policy:
        out["DeliveryPolicy"] = topic.delivery_policy
    if topic.fifo:
        out["FifoTopic"] = "true"
        out["ContentBasedDeduplication"] = "true" if topic.content_based_deduplication else "false"
    out.update(topic.extra_attributes or {})
    return out


def effective_topic_policy(topic: Any) -> dict[str, Any]:
    if not topic.delivery_policy:
        return DEFAULT_HTTP_POLICY
    merged = json.loads(json.dumps(DEFAULT_HTTP_POLICY))
    given = json.loads(topic.delivery_policy).get("http") or {}
    for key, value in given.items():
        merged["http"][key] = {**merged["http"].get(key, {}), **value} if isinstance(value, dict) else value
    return merged


def http_retry_policy(subscription: Any) -> dict[str, Any]:
    """The healthy retry policy an http/https delivery follows: the subscription's, else the topic's, else AWS's default."""
    topic_http = effective_topic_policy(subscription.topic)["http"]
    policy = dict(topic_http["defaultHealthyRetryPolicy"])
    if subscription.delivery_policy and not topic_http.get("disableSubscriptionOverrides"):
        policy.update(json.loads(subscription.delivery_policy).get("healthyRetryPolicy") or {})
    return policy


def redrive_policy_parse(value: str) -> dict[str, str] | None:
    if not value:
        return None
    policy = _json_object("RedrivePolicy", value)
    arn = policy.get("deadLetterTargetArn")
    if not isinstance(arn, str) or not _SQS_ARN.match(arn):
        raise invalid("RedrivePolicy: deadLetterTargetArn is an invalid arn")
    return {"deadLetterTargetArn": arn}


def subscription_fields(attributes: dict[str, str], *, protocol: str, fifo_topic: bool) -> dict[str, Any]:
    """Model fields from subscription attributes (Subscribe's or SetSubscriptionAttributes')."""
    fields: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for name, value in attributes.items():
        if name not in SUBSCRIPTION_SETTABLE:
            raise invalid("AttributeName")
        if name == "RawMessageDelivery":
            raw = boolean(name, value)
            if raw and protocol == "lambda":
                raise invalid("Attributes Reason: Delivery protocol [lambda] does not support raw message delivery.")
            fields["raw_message_delivery"] = raw
        elif name == "FilterPolicyScope":
            if value not in ("MessageAttributes", "MessageBody"):
                raise invalid("Attributes Reason: FilterPolicyScope: Invalid value [" + value + "]. Please use either MessageBody or MessageAttributes")
            fields["filter_policy_scope"] = value
        elif name == "FilterPolicy":
            fields["filter_policy"] = value
        elif name == "RedrivePolicy":
            policy = redrive_policy_parse(value)
            if policy and fifo_topic != policy["deadLetterTargetArn"].endswith(".fifo"):
                raise invalid("RedrivePolicy: must use a FIFO queue as DLQ for a FIFO topic subscription and a standard queue for a standard topic subscription")
            fields["redrive_policy"] = policy
        elif name == "DeliveryPolicy":
            if value and protocol not in ("http", "https"):
                raise invalid(f"DeliveryPolicy: Delivery protocol [{protocol}] does not support delivery policies")
            delivery_policy_check(value, subscription=True)
            fields["delivery_policy"] = value
        else:
            extra[name] = value
    if extra:
        fields["extra_attributes"] = extra
    return fields


def filter_check(policy: str, scope: str) -> None:
    if policy:
        filter_policy_check(policy, scope)


def subscription_attributes(subscription: Any) -> dict[str, str]:
    out = {"SubscriptionArn": subscription.arn, "TopicArn": subscription.topic.arn, "Owner": subscription.owner or settings.KILN_ACCOUNT_ID,
           "Protocol": subscription.protocol, "Endpoint": subscription.endpoint, "ConfirmationWasAuthenticated": "true" if subscription.confirmed else "false",
           "PendingConfirmation": "false" if subscription.confirmed else "true",
           "RawMessageDelivery": "true" if subscription.raw_message_delivery else "false",
           "SubscriptionPrincipal": f"arn:aws:iam::{settings.KILN_ACCOUNT_ID}:root"}
    if subscription.filter_policy:
        out["FilterPolicy"] = subscription.filter_policy
        out["FilterPolicyScope"] = subscription.filter_policy_scope
    if subscription.redrive_policy:
        out["RedrivePolicy"] = json.dumps(subscription.redrive_policy, separators=(",", ":"))
    if subscription.delivery_policy:
        out["DeliveryPolicy"] = subscription.delivery_policy
    if subscription.protocol in ("http", "https"):
        out["EffectiveDeliveryPolicy"] = json.dumps({"healthyRetryPolicy": http_retry_policy(subscription)}, separators=(",", ":"))
    out.update(subscription.extra_attributes or {})
    return out
