"""CloudWatch Logs adapter (awsJson 1.1, target prefix ``Logs_20140328``): thin, over the ``logs`` app.

User groups, streams and events are ``logs`` rows; a function's group ``/aws/lambda/<function>`` reads its
invocation logs (streams one per day, version and worker) merged with what users wrote into it, so
``aws logs tail``, ``filter-log-events`` and ``kiln logs --follow`` read the history the console shows
(``logs.models`` states the design). Tokens are opaque: base64 JSON of the selectors' positions.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.conf import settings
from django.http import HttpResponse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.models import service_model
from aws.protocols.awsjson import json_operation, json_parse, json_response
from aws.registry import handler_for, operation
from logs import limits, selectors, services
from logs.models import SubscriptionFilter, group_arn

DOMAIN_CODES = {"*NotFound": ("ResourceNotFoundException", 400), "*Invalid": ("InvalidParameterException", 400)}
EVENTS_MAX = limits.EVENTS_LIMIT_MAX


def dispatch(ctx: AwsContext, *, verification: object, body: bytes | None) -> HttpResponse:
    model = service_model("logs")
    op = json_operation(model, ctx.request)
    handler = handler_for("logs", op.name)
    if handler is None:
        raise AwsError("InvalidOperationException", f"Kiln does not implement CloudWatch Logs {op.name} yet.", status=400)
    return json_response(model, op, handler(ctx, json_parse(op, body or b"")), request_id=ctx.request_id)


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def _group_name(params: dict[str, Any]) -> str:
    group = params.get("logGroupName") or (params.get("logGroupIdentifier") or "").split(":log-group:")[-1].removesuffix(":*")
    if not group:
        raise _invalid("Give logGroupName or logGroupIdentifier.")
    return group


def _group_name_of_arn(arn: str) -> str:
    prefix = f"arn:aws:logs:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:log-group:"
    if not isinstance(arn, str) or not arn.startswith(prefix) or len(arn) == len(prefix):
        raise _invalid(f"Invalid resourceArn {arn!r}: give a log group ARN, {prefix}<name>.")
    return arn[len(prefix):].removesuffix(":*")


def _all(name: str) -> str:
    return group_arn(name) + ":*"


def _stream_arn(group: str, stream: str) -> str:
    return group_arn(group) + f":log-stream:{stream}"


def _token_out(position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def _token_in(token: str | None) -> Any:
    if not token:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, TypeError):
        raise _invalid("The nextToken is not valid: use the one the previous page returned.") from None


def _limit(params: dict[str, Any], maximum: int = EVENTS_MAX, default: int | None = None) -> int:
    limit = params.get("limit") or default or maximum
    if not 1 <= limit <= maximum:
        raise _invalid(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to {maximum}")
    return limit


# -- groups -----------------------------------------------------------------------------------------------------------
@operation("logs", "CreateLogGroup")
def create_log_group(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:CreateLogGroup", _all(params["logGroupName"]))
    services.log_group_create(name=params["logGroupName"], kms_key_id=params.get("kmsKeyId") or "", tags=params.get("tags"),
                              log_group_class=params.get("logGroupClass"))
    return {}


@operation("logs", "DeleteLogGroup")
def delete_log_group(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:DeleteLogGroup", _all(params["logGroupName"]))
    services.log_group_delete(name=params["logGroupName"])
    return {}


def _group_out(group: selectors.GroupView) -> dict[str, Any]:
    out: dict[str, Any] = {"logGroupName": group.name, "creationTime": group.created_ms, "metricFilterCount": 0, "arn": _all(group.name),
                           "logGroupArn": group_arn(group.name), "storedBytes": group.stored_bytes, "logGroupClass": group.log_group_class}
    if group.retention_in_days:
        out["retentionInDays"] = group.retention_in_days
    if group.kms_key_id:
        out["kmsKeyId"] = group.kms_key_id
    return out


@operation("logs", "DescribeLogGroups")
def describe_log_groups(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:DescribeLogGroups", group_arn("*"))
    if params.get("logGroupNamePrefix") and params.get("logGroupNamePattern"):
        raise _invalid("LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive. Give one of them.")
    after = _token_in(params.get("nextToken")) or ""
    if not isinstance(after, str):
        raise _invalid("The nextToken is not valid: use the one the previous page returned.")
    groups, last = selectors.groups_list(prefix=params.get("logGroupNamePrefix") or "", pattern=params.get("logGroupNamePattern") or "", after=after,
                                         limit=_limit(params, limits.DESCRIBE_LIMIT_MAX))
    out: dict[str, Any] = {"logGroups": [_group_out(g) for g in groups]}
    if last is not None:
        out["nextToken"] = _token_out(last)
    return out


@operation("logs", "PutRetentionPolicy")
def put_retention_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:PutRetentionPolicy", _all(params["logGroupName"]))
    services.retention_put(name=params["logGroupName"], days=params.get("retentionInDays"))
    return {}


@operation("logs", "DeleteRetentionPolicy")
def delete_retention_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:DeleteRetentionPolicy", _all(params["logGroupName"]))
    services.retention_delete(name=params["logGroupName"])
    return {}


# -- tags -------------------------------------------------------------------------------------------------------------
def _tags_of(name: str) -> dict[str, str]:
    row, _function = selectors.group_lookup(name)
    return dict(row.tags) if row is not None else {}


@operation("logs", "TagResource")
def tag_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _group_name_of_arn(params["resourceArn"])
    ctx.authorize("logs:TagResource", _all(name))
    services.group_tag(name=name, tags=params.get("tags") or {})
    return {}


@operation("logs", "UntagResource")
def untag_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _group_name_of_arn(params["resourceArn"])
    ctx.authorize("logs:UntagResource", _all(name))
    services.group_untag(name=name, keys=params.get("tagKeys") or [])
    return {}


@operation("logs", "ListTagsForResource")
def list_tags_for_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _group_name_of_arn(params["resourceArn"])
    ctx.authorize("logs:ListTagsForResource", _all(name))
    return {"tags": _tags_of(name)}


@operation("logs", "TagLogGroup")
def tag_log_group(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:TagLogGroup", _all(params["logGroupName"]))
    services.group_tag(name=params["logGroupName"], tags=params.get("tags") or {})
    return {}


@operation("logs", "UntagLogGroup")
def untag_log_group(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:UntagLogGroup", _all(params["logGroupName"]))
    services.group_untag(name=params["logGroupName"], keys=params.get("tags") or [])
    return {}


@operation("logs", "ListTagsLogGroup")
def list_tags_log_group(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:ListTagsLogGroup", _all(params["logGroupName"]))
    return {"tags": _tags_of(params["logGroupName"])}


# -- streams ----------------------------------------------------------------------------------------------------------
@operation("logs", "CreateLogStream")
def create_log_stream(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:CreateLogStream", _stream_arn(params["logGroupName"], params["logStreamName"]))
    services.log_stream_create(group_name=params["logGroupName"], name=params["logStreamName"])
    return {}


@operation("logs", "DeleteLogStream")
def delete_log_stream(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:DeleteLogStream", _stream_arn(params["logGroupName"], params["logStreamName"]))
    services.log_stream_delete(group_name=params["logGroupName"], name=params["logStreamName"])
    return {}


@operation("logs", "DescribeLogStreams")
def describe_log_streams(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _group_name(params)
    ctx.authorize("logs:DescribeLogStreams", _all(name))
    order_by = params.get("orderBy") or "LogStreamName"
    if order_by not in ("LogStreamName", "LastEventTime"):
        raise _invalid(f"1 validation error detected: Value '{order_by}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]")
    if order_by == "LastEventTime" and params.get("logStreamNamePrefix"):
        raise _invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
    offset = _token_in(params.get("nextToken")) or 0
    if not isinstance(offset, int):
        raise _invalid("The nextToken is not valid: use the one the previous page returned.")
    streams, following = selectors.streams_list(group_name=name, prefix=params.get("logStreamNamePrefix") or "", order_by=order_by,
                                                descending=bool(params.get("descending")), offset=offset, limit=_limit(params, limits.DESCRIBE_LIMIT_MAX))
    out: dict[str, Any] = {"logStreams": [_stream_out(name, s) for s in streams]}
    if following is not None:
        out["nextToken"] = _token_out(following)
    return out


def _stream_out(group: str, stream: selectors.StreamView) -> dict[str, Any]:
    out: dict[str, Any] = {"logStreamName": stream.name, "creationTime": stream.created_ms, "arn": _stream_arn(group, stream.name), "storedBytes": stream.stored_bytes}
    for key, value in (("firstEventTimestamp", stream.first_ms), ("lastEventTimestamp", stream.last_ms), ("lastIngestionTime", stream.ingestion_ms),
                       ("uploadSequenceToken", stream.sequence_token)):
        if value:
            out[key] = value
    return out


# -- events -----------------------------------------------------------------------------------------------------------
@operation("logs", "PutLogEvents")
def put_log_events(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:PutLogEvents", _stream_arn(params["logGroupName"], params["logStreamName"]))
    # sequenceToken is accepted and ignored, as AWS now does.
    result = services.log_events_put(group_name=params["logGroupName"], stream_name=params["logStreamName"], events=params.get("logEvents") or [],
                                      caused_by=ctx.principal.invocation_id or None)
    out: dict[str, Any] = {"nextSequenceToken": result.next_sequence_token}
    if result.rejected:
        out["rejectedLogEventsInfo"] = result.rejected
    return out


@operation("logs", "FilterLogEvents")
def filter_log_events(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _group_name(params)
    ctx.authorize("logs:FilterLogEvents", _all(name))
    if params.get("logStreamNames") and params.get("logStreamNamePrefix"):
        raise _invalid("logStreamNames and logStreamNamePrefix are mutually exclusive. Give one of them.")
    limit = _limit(params)
    matches = selectors.pattern_matcher(params.get("filterPattern"))
    token = _token_in(params.get("nextToken"))
    try:
        history, done, row = (token["h"], bool(token["d"]), token["r"]) if token is not None else (None, False, None)
        history = (str(history[0]), str(history[1]), int(history[2])) if history else None
        row = (int(row[0]), int(row[1])) if row else None
    except (KeyError, TypeError, ValueError, IndexError):
        raise _invalid("The nextToken is not valid: use the one the previous page returned.") from None
    events, position = selectors.events_filter(group_name=name, start_ms=params.get("startTime"), end_ms=params.get("endTime"),
                                               streams=params.get("logStreamNames"), stream_prefix=params.get("logStreamNamePrefix"), matches=matches,
                                               limit=limit, history_after=history, history_done=done, row_after=row)
    out: dict[str, Any] = {"events": [{"logStreamName": e.stream, "timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion,
                                       "eventId": e.event_id} for e in events], "searchedLogStreams": []}
    if position is not None:
        out["nextToken"] = _token_out({"h": position[0], "d": position[1], "r": position[2]})
    return out


def _row_token(token: str) -> tuple[str, tuple[int, int] | None]:
    direction, _, rest = token.partition("/")
    if direction not in ("f", "b"):
        raise _invalid("The nextToken is not valid: use nextForwardToken or nextBackwardToken of the previous page.")
    try:
        stamp, _, pk = rest.partition("/")
        return direction, (int(stamp), int(pk))
    except ValueError:
        raise _invalid("The nextToken is not valid: use nextForwardToken or nextBackwardToken of the previous page.") from None


@operation("logs", "GetLogEvents")
def get_log_events(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name, stream = _group_name(params), params["logStreamName"]
    ctx.authorize("logs:GetLogEvents", _stream_arn(name, stream))
    limit = _limit(params)
    if selectors.stream_is_written(name, stream):
        return _get_written(name, stream, params, limit)
    # An invocation-history stream: forward from the position in the token (``f/<position>``).
    token = params.get("nextToken")
    encoded = token[2:] if token and token[:2] in ("f/", "b/") else token
    raw = _token_in(encoded)
    try:
        position = (str(raw[0]), str(raw[1]), int(raw[2])) if raw else None
    except (TypeError, ValueError, IndexError, KeyError):
        raise _invalid("The nextToken is not valid: use the one the previous page returned.") from None
    events, after = selectors.history_stream_events(group_name=name, stream_name=stream, start_ms=params.get("startTime"), end_ms=params.get("endTime"),
                                                    limit=limit, after=position)
    forward = f"f/{_token_out(after)}" if after else (f"f/{_token_out(position)}" if position else "f/")
    return {"events": [{"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion} for e in events],
            "nextForwardToken": forward, "nextBackwardToken": "b/"}


def _get_written(group: str, stream: str, params: dict[str, Any], limit: int) -> dict[str, Any]:
    """GetLogEvents on a written stream: ``f/<ts>/<id>`` reads after that event, ``b/<ts>/<id>`` before it; at
    the end of either direction the same token comes back."""
    token = params.get("nextToken")
    direction, position = _row_token(token) if token else ("", None)
    events = selectors.stream_events(group_name=group, stream_name=stream, start_ms=params.get("startTime"), end_ms=params.get("endTime"),
                                     limit=limit, from_head=bool(params.get("startFromHead")),
                                     after=position if direction == "f" else None, before=position if direction == "b" else None)
    if events:
        first, last = events[0], events[-1]
        forward, backward = f"f/{last.timestamp}/{int(last.event_id)}", f"b/{first.timestamp}/{int(first.event_id)}"
    elif token and position is not None:
        stamp, pk = position
        forward = token if direction == "f" else f"f/{stamp}/{pk - 1}"
        backward = token if direction == "b" else f"b/{stamp}/{pk + 1}"
    else:
        forward, backward = "f/0/0", "b/0/0"
    return {"events": [{"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion} for e in events],
            "nextForwardToken": forward, "nextBackwardToken": backward}


# -- subscription filters ---------------------------------------------------------------------------------------------
@operation("logs", "PutSubscriptionFilter")
def put_subscription_filter(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:PutSubscriptionFilter", _all(params["logGroupName"]))
    services.subscription_filter_put(group_name=params["logGroupName"], filter_name=params["filterName"], filter_pattern=params.get("filterPattern") or "",
                                     destination_arn=params["destinationArn"], distribution=params.get("distribution"), role_arn=params.get("roleArn"))
    return {}


def _filter_out(subscription: SubscriptionFilter, group: str) -> dict[str, Any]:
    out: dict[str, Any] = {"filterName": subscription.filter_name, "logGroupName": group, "filterPattern": subscription.filter_pattern,
                           "destinationArn": subscription.destination_arn, "distribution": subscription.distribution,
                           "creationTime": int(subscription.created_at.timestamp() * 1000)}
    if subscription.role_arn:
        out["roleArn"] = subscription.role_arn
    return out


@operation("logs", "DescribeSubscriptionFilters")
def describe_subscription_filters(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["logGroupName"]
    ctx.authorize("logs:DescribeSubscriptionFilters", _all(name))
    offset = _token_in(params.get("nextToken")) or 0
    if not isinstance(offset, int):
        raise _invalid("The nextToken is not valid: use the one the previous page returned.")
    found, following = selectors.filters_list(group_name=name, prefix=params.get("filterNamePrefix") or "", offset=offset,
                                              limit=_limit(params, limits.DESCRIBE_LIMIT_MAX))
    out: dict[str, Any] = {"subscriptionFilters": [_filter_out(f, name) for f in found]}
    if following is not None:
        out["nextToken"] = _token_out(following)
    return out


@operation("logs", "DeleteSubscriptionFilter")
def delete_subscription_filter(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:DeleteSubscriptionFilter", _all(params["logGroupName"]))
    services.subscription_filter_delete(group_name=params["logGroupName"], filter_name=params["filterName"])
    return {}


