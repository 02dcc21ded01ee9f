"""CloudWatch Logs adapter (awsJson 1.1), read side: each function's invocation logs as ``/aws/lambda/NAME``.

Log groups are the functions' (``/aws/lambda/<function>``), streams one per day, version and worker, and
events the lines of finished invocations (``invoker.selectors.log_events``), so ``aws logs tail``,
``filter-log-events`` and ``kiln logs --follow`` read the same history the console shows. Writing log
events, other groups, retention and subscriptions land with the Logs part of the queues/topics/bus/logs issue.
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
from functions.models import Function
from invoker.selectors import LogEvent, log_events, log_group_function, log_streams

DOMAIN_CODES = {"*NotFound": ("ResourceNotFoundException", 400), "*Invalid": ("InvalidParameterException", 400)}
EVENTS_MAX = 10_000


def dispatch(ctx: AwsContext, *, verification: object, body: bytes | None) -> HttpResponse:
    model = service_model("logs")
    op = json_operation(model, ctx.request)
    handler = handler_for("logs", op.name)
    if handler is None:
        raise AwsError("InvalidOperationException", f"Kiln does not implement CloudWatch Logs {op.name} yet.", status=400)
    return json_response(model, op, handler(ctx, json_parse(op, body or b"")), request_id=ctx.request_id)


def _group_arn(group: str) -> str:
    return f"arn:aws:logs:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:log-group:{group}"


def _function_of(params: dict[str, Any]) -> str:
    group = params.get("logGroupName") or (params.get("logGroupIdentifier") or "").split(":log-group:")[-1].removesuffix(":*")
    if not group:
        raise AwsError("InvalidParameterException", "Give logGroupName (/aws/lambda/<function>) or logGroupIdentifier.")
    name = log_group_function(group)
    if name is None or not Function.objects.filter(name=name).exists():
        raise AwsError("ResourceNotFoundException", "The specified log group does not exist.")
    return name


def _token_out(position: tuple[str, str, int] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode() if position else None


def _token_in(token: str | None) -> tuple[str, str, int] | None:
    if not token:
        return None
    try:
        started, request_id, line = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(started), str(request_id), int(line)
    except (binascii.Error, ValueError, TypeError):
        raise AwsError("InvalidParameterException", "The nextToken is not valid: use the one the previous page returned.") from None


def _limit(params: dict[str, Any]) -> int:
    limit = params.get("limit") or EVENTS_MAX
    if not 1 <= limit <= EVENTS_MAX:
        raise AwsError("InvalidParameterException", f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to {EVENTS_MAX}")
    return limit


@operation("logs", "FilterLogEvents")
def filter_log_events(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _function_of(params)
    ctx.authorize("logs:FilterLogEvents", _group_arn(f"/aws/lambda/{name}") + ":*")
    events, position = log_events(function_name=name, start_ms=params.get("startTime"), end_ms=params.get("endTime"),
                                  after=_token_in(params.get("nextToken")), limit=_limit(params), streams=params.get("logStreamNames"),
                                  stream_prefix=params.get("logStreamNamePrefix"), pattern=params.get("filterPattern"))
    out: dict[str, Any] = {"events": [_filtered(e) for e in events], "searchedLogStreams": []}
    if position:
        out["nextToken"] = _token_out(position)
    return out


def _filtered(event: LogEvent) -> dict[str, Any]:
    return {"logStreamName": event.stream, "timestamp": event.timestamp, "message": event.message, "ingestionTime": event.ingestion, "eventId": event.event_id}


@operation("logs", "GetLogEvents")
def get_log_events(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _function_of(params)
    ctx.authorize("logs:GetLogEvents", _group_arn(f"/aws/lambda/{name}") + f":log-stream:{params['logStreamName']}")
    token = params.get("nextToken")
    position = _token_in(token[2:]) if token and token[:2] in ("f/", "b/") else _token_in(token)
    events, after = log_events(function_name=name, start_ms=params.get("startTime"), end_ms=params.get("endTime"), after=position,
                               limit=_limit(params), streams=[params["logStreamName"]])
    forward = f"f/{_token_out(after)}" if after else (f"f/{_token_out(position)}" if position else "f/")
    return {"events": [{"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion} for e in events],
            "nextForwardToken": forward, "nextBackwardToken": "b/"}


@operation("logs", "DescribeLogGroups")
def describe_log_groups(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("logs:DescribeLogGroups", _group_arn("*"))
    prefix = params.get("logGroupNamePrefix") or ""
    groups = []
    for function in Function.objects.order_by("name"):
        group = f"/aws/lambda/{function.name}"
        if group.startswith(prefix):
            groups.append({"logGroupName": group, "creationTime": int(function.created_at.timestamp() * 1000), "metricFilterCount": 0,
                           "arn": _group_arn(group) + ":*", "logGroupArn": _group_arn(group), "storedBytes": 0, "logGroupClass": "STANDARD"})
    return {"logGroups": groups[: params.get("limit") or 50]}


@operation("logs", "DescribeLogStreams")
def describe_log_streams(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _function_of(params)
    ctx.authorize("logs:DescribeLogStreams", _group_arn(f"/aws/lambda/{name}") + ":*")
    prefix = params.get("logStreamNamePrefix") or ""
    streams = [{"logStreamName": stream, "creationTime": first, "firstEventTimestamp": first, "lastEventTimestamp": last, "lastIngestionTime": last,
                "arn": _group_arn(f"/aws/lambda/{name}") + f":log-stream:{stream}", "storedBytes": 0}
               for stream, first, last in log_streams(function_name=name, limit=params.get("limit") or 50) if stream.startswith(prefix)]
    if not params.get("descending") and params.get("orderBy") != "LastEventTime":
        streams.sort(key=lambda s: s["logStreamName"])
    return {"logStreams": streams}
