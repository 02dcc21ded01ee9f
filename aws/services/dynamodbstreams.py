"""DynamoDB Streams adapter (awsJson 1.0, target prefix ``DynamoDBStreams_20120810``): thin, over ``tables.streams``.

Requests are signed for the service ``dynamodb`` (botocore's ``signingName``), as DynamoDB's own are; the
router tells the two apart by ``X-Amz-Target``. IAM actions are ``dynamodb:ListStreams``, ``DescribeStream``,
``GetShardIterator`` and ``GetRecords`` on the stream ARN. Errors carry DynamoDB's codes in ``__type``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.models import service_model
from aws.protocols.awsjson import json_operation, json_parse, json_response
from aws.registry import handler_for, operation
from core.errors import KilnError
from tables import streams

SERVICE = "dynamodbstreams"
_STATUS = {"InternalServerError": 500}


def _aws(error: KilnError) -> AwsError:
    status = _STATUS.get(error.code, 400 if error.status < 500 else error.status)
    return AwsError(error.code, error.message, status=status, sender=status < 500)


def dispatch(ctx: AwsContext, *, verification: object, body: bytes | None) -> HttpResponse:
    model = service_model(SERVICE)
    op = json_operation(model, ctx.request)
    handler = handler_for(SERVICE, op.name)
    if handler is None:
        raise AwsError("UnknownOperationException", f"Kiln does not implement DynamoDB Streams {op.name}.")
    try:
        result = handler(ctx, json_parse(op, body or b""))
    except KilnError as error:
        raise _aws(error) from None
    except AwsError as error:
        if error.code == "AccessDenied":  # DynamoDB's name for it
            raise AwsError("AccessDeniedException", error.message, status=400) from None
        raise
    return json_response(model, op, result, request_id=ctx.request_id)


def _stream(ctx: AwsContext, arn: str, action: str) -> streams.Stream:
    ctx.authorize(f"dynamodb:{action}", arn)
    return streams.stream_get(arn)


@operation(SERVICE, "ListStreams")
def list_streams(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    table = params.get("TableName")
    ctx.authorize("dynamodb:ListStreams", f"arn:aws:dynamodb:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:table/{table or '*'}/stream/*")
    limit = params.get("Limit")
    if limit is not None and not 1 <= limit <= streams.LIST_MAX:
        raise AwsError("ValidationException", f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                                              f"Member must have value less than or equal to {streams.LIST_MAX}")
    found = streams.streams_list(table_name=table)
    start = params.get("ExclusiveStartStreamArn")
    if start:
        arns = [s.arn for s in found]
        found = found[arns.index(start) + 1:] if start in arns else [s for s in found if s.arn > start]
    size = limit or streams.LIST_MAX
    out: dict[str, Any] = {"Streams": [{"StreamArn": s.arn, "TableName": s.table.name, "StreamLabel": s.label} for s in found[:size]]}
    if len(found) > size:
        out["LastEvaluatedStreamArn"] = found[size - 1].arn
    return out


@operation(SERVICE, "DescribeStream")
def describe_stream(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    stream = _stream(ctx, params["StreamArn"], "DescribeStream")
    return {"StreamDescription": streams.stream_description(stream, limit=params.get("Limit"), exclusive_start_shard_id=params.get("ExclusiveStartShardId"))}


@operation(SERVICE, "GetShardIterator")
def get_shard_iterator(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    stream = _stream(ctx, params["StreamArn"], "GetShardIterator")
    return {"ShardIterator": streams.iterator_get(stream=stream, shard_id=params["ShardId"], iterator_type=params["ShardIteratorType"],
                                                  sequence_number=params.get("SequenceNumber"))}


@operation(SERVICE, "GetRecords")
def get_records(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    position = streams.iterator_decode(params["ShardIterator"])
    ctx.authorize("dynamodb:GetRecords", position.arn)
    _, records, following = streams.records_get(iterator=params["ShardIterator"], limit=params.get("Limit"))
    out: dict[str, Any] = {"Records": records}
    if following is not None:
        out["NextShardIterator"] = following
    return out
