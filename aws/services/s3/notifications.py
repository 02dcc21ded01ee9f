"""S3 PutBucketNotificationConfiguration / GetBucketNotificationConfiguration over ``events``' notifications.

``LambdaFunctionConfigurations`` map one to one onto ``events.models.BucketNotification`` (Id, function
ARN, events, prefix/suffix filter rules), the same rows the REST API and the console edit. A Put replaces
the whole set in one transaction (``events.services.bucket_notifications_replace``), and is refused before
anything is written when a configuration is invalid, in S3's words: ``InvalidArgument`` "The event is not
supported for notifications", the filter-rule messages, "Configurations overlap. ...", and "Unable to
validate the following destination configurations" with one numbered ``ArgumentName``/``ArgumentValue``
pair per function ARN that names no function here. Queue, topic and EventBridge destinations are answered
``NotImplemented`` until Kiln has those services.
"""

from __future__ import annotations

from typing import Any

from aws.context import AwsContext
from aws.errors import AwsError
from aws.registry import operation
from aws.services.s3.common import bucket_for
from events import selectors, services
from events.models import BucketNotification
from events.s3 import EVENT_TYPES
from events.services import NotificationsOverlap

FILTER_VALUE_MAX_BYTES = 1024  # S3's limit on a filter rule's value
MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"
_UNSUPPORTED = {"QueueConfigurations": "SQS queues", "TopicConfigurations": "SNS topics", "EventBridgeConfiguration": "EventBridge"}


def _invalid(message: str, **fields: str) -> AwsError:
    return AwsError("InvalidArgument", message, fields=fields)


def _key_filter(config: dict[str, Any]) -> tuple[str, str]:
    """The (prefix, suffix) of a configuration's ``Filter.Key.FilterRules``, checked as S3 checks them."""
    rules = ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    found: dict[str, str] = {}
    for rule in rules:
        name, value = str(rule.get("Name") or ""), str(rule.get("Value") or "")
        kind = name.lower()
        if kind not in ("prefix", "suffix"):
            raise _invalid("filter rule name must be either prefix or suffix", ArgumentName="FilterRule.Name", ArgumentValue=name)
        if kind in found:
            raise _invalid(f"Cannot specify more than one {kind} rule in a filter.", ArgumentName="FilterRule.Name", ArgumentValue=name)
        if len(value.encode()) > FILTER_VALUE_MAX_BYTES:
            raise _invalid(f"Size of filter rule value cannot exceed {FILTER_VALUE_MAX_BYTES} bytes in UTF-8 representation",
                           ArgumentName="FilterRule.Value", ArgumentValue=value)
        found[kind] = value
    return found.get("prefix", ""), found.get("suffix", "")


def _notifications(configuration: dict[str, Any]) -> list[BucketNotification]:
    """Unsaved rows for the configuration's Lambda destinations; every destination ARN is checked first."""
    for member, service in _UNSUPPORTED.items():
        if member in configuration and (configuration[member] or member == "EventBridgeConfiguration"):
            raise AwsError("NotImplemented", f"Kiln has no {service} yet, so {member} cannot be delivered; use LambdaFunctionConfigurations.",
                           status=501)
    rows, unknown = [], []
    for config in configuration.get("LambdaFunctionConfigurations") or []:
        arn, events = config.get("LambdaFunctionArn") or "", config.get("Events") or []
        if not arn or not events:
            raise AwsError("MalformedXML", MALFORMED)
        if any(event not in EVENT_TYPES for event in events):
            raise _invalid("The event is not supported for notifications")
        prefix, suffix = _key_filter(config)
        function = selectors.notification_function(arn)
        if function is None:
            unknown.append(arn)
            continue
        rows.append(BucketNotification(config_id=config.get("Id") or "", events=list(dict.fromkeys(events)), prefix=prefix, suffix=suffix, function=function))
    if unknown:
        fields: dict[str, str] = {}
        for number, arn in enumerate(unknown, start=1):
            fields[f"ArgumentName{number}"] = f"{arn}, null"
            fields[f"ArgumentValue{number}"] = f"Not authorized to invoke function [{arn}]"
        raise _invalid("Unable to validate the following destination configurations", **fields)
    return rows


@operation("s3", "PutBucketNotificationConfiguration")
def put_bucket_notification_configuration(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_for(ctx, "s3:PutBucketNotification", params["Bucket"])
    configuration = params.get("NotificationConfiguration")
    if configuration is None:
        raise AwsError("MalformedXML", MALFORMED)
    rows = _notifications(configuration)
    try:
        services.bucket_notifications_replace(bucket=bucket, notifications=rows)
    except NotificationsOverlap:
        raise _invalid("Configurations overlap. Configurations on the same bucket cannot share a common event type.") from None
    return {}


def _configuration(row: BucketNotification) -> dict[str, Any]:
    config: dict[str, Any] = {"Id": row.config_id, "LambdaFunctionArn": row.function.arn, "Events": row.events}
    rules = [{"Name": name, "Value": value} for name, value in (("Prefix", row.prefix), ("Suffix", row.suffix)) if value]
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


@operation("s3", "GetBucketNotificationConfiguration")
def get_bucket_notification_configuration(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_for(ctx, "s3:GetBucketNotification", params["Bucket"])
    configurations = [_configuration(row) for row in selectors.bucket_notifications(bucket)]
    return {"LambdaFunctionConfigurations": configurations} if configurations else {}
