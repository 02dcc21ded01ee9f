"""SQS adapter (awsJson 1.0, target prefix ``AmazonSQS``, as botocore ≥ 1.31 speaks it): thin, over ``queues``.

Queue URLs are ``<scheme>://<request host>/<account>/<name>``; any URL whose path is ``/<account>/<name>``
is accepted (``sqs.<region>.localhost`` style included). Errors carry SQS's JSON code in ``__type`` and the
legacy query code in ``x-amzn-query-error`` (``QUERY_CODES``), which boto3 surfaces as ``Error.Code`` while
raising the modeled exception class (``client.exceptions.QueueDoesNotExist``). Batch operations authorize
the single operation's action, as IAM does for SQS.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlsplit

from botocore.model import OperationNotFoundError
from django.conf import settings
from django.http import HttpResponse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.models import service_model
from aws.protocols.awsjson import json_operation, json_parse, json_response
from aws.registry import handler_for, operation
from aws.services import sqs_query
from core.errors import KilnError
from queues import limits, messages, services
from queues.attributes import queue_attributes
from queues.checksums import md5_of_attributes
from queues.errors import QueueError
from queues.models import Message, Queue
from queues.selectors import queue_counts, queue_dead_letter_sources, queue_get, queue_list

QUERY_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue", "QueueNameExists": "QueueAlreadyExists",
    "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently", "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight", "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId", "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
}
_STATUS = {"OverLimit": 403, "RequestThrottled": 403, "AccessDenied": 403}
_SYSTEM_NAMES = ["SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SequenceNumber",
                 "MessageDeduplicationId", "MessageGroupId", "AWSTraceHeader", "DeadLetterQueueSourceArn"]


def _aws(error: KilnError) -> AwsError:
    return AwsError(error.code, error.message, status=_STATUS.get(error.code, error.status), sender=error.status < 500, query_code=QUERY_CODES.get(error.code))


def _missing(name: str) -> AwsError:
    """A required member absent, in SQS's words (the same code in ``x-amzn-query-error``)."""
    return AwsError("MissingParameter", f"The request must contain the parameter {name}.")


def dispatch(ctx: AwsContext, *, verification: object, body: bytes | None) -> HttpResponse:
    model = service_model("sqs")
    if sqs_query.is_query(ctx.request):
        return _dispatch_query(ctx, model, body or b"")
    op = json_operation(model, ctx.request)
    handler = handler_for("sqs", op.name)
    if handler is None:
        raise AwsError("UnsupportedOperation", f"Kiln does not implement SQS {op.name} yet.", query_code=QUERY_CODES["UnsupportedOperation"])
    try:
        result = handler(ctx, json_parse(op, body or b"", missing=_missing))
    except KilnError as error:
        raise _aws(error) from None
    return json_response(model, op, result, request_id=ctx.request_id)


def _dispatch_query(ctx: AwsContext, model: Any, body: bytes) -> HttpResponse:
    """The query protocol: every answer, errors included, in its XML."""
    try:
        form = sqs_query.query_form(ctx.request, body)
        action = form.get("Action", "")
        try:
            op = model.operation_model(action)
        except OperationNotFoundError:
            raise AwsError("InvalidAction", f"The action {action} is not valid for this endpoint.") from None
        handler = handler_for("sqs", op.name)
        if handler is None:
            raise AwsError("UnsupportedOperation", f"Kiln does not implement SQS {op.name} yet.", query_code=QUERY_CODES["UnsupportedOperation"])
        try:
            result = handler(ctx, sqs_query.query_params(op, form))
        except KilnError as error:
            raise _aws(error) from None
        return sqs_query.query_answer(op, result, ctx.request_id)
    except AwsError as error:
        return sqs_query.query_error_answer(error, ctx.request_id)


# --- queue addressing ------------------------------------------------------------------------------------------------

def _url(ctx: AwsContext, queue: Queue) -> str:
    scheme = "https" if ctx.secure else "http"
    return f"{scheme}://{ctx.request.get_host()}/{settings.KILN_ACCOUNT_ID}/{queue.name}"


def _queue(params: dict[str, Any]) -> Queue:
    url = params.get("QueueUrl") or ""
    parts = urlsplit(url).path.strip("/").split("/") if "://" in url else url.strip("/").split("/")
    if len(parts) != 2 or not parts[1]:
        raise AwsError("InvalidAddress", f"The address {url} is not valid for this endpoint.")
    if parts[0] != settings.KILN_ACCOUNT_ID:
        raise _aws(QueueError("The specified queue does not exist.", code="QueueDoesNotExist"))
    return queue_get(parts[1])


def _authorized(ctx: AwsContext, params: dict[str, Any], action: str) -> Queue:
    queue = _queue(params)
    ctx.authorize(f"sqs:{action}", queue.arn)
    return queue


# --- queues ----------------------------------------------------------------------------------------------------------

@operation("sqs", "CreateQueue")
def create_queue(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["QueueName"]
    ctx.authorize("sqs:CreateQueue", f"arn:aws:sqs:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:{name}")
    queue = services.queue_create(name=name, attributes=params.get("Attributes"), tags=params.get("tags"))
    return {"QueueUrl": _url(ctx, queue)}


@operation("sqs", "GetQueueUrl")
def get_queue_url(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    owner = params.get("QueueOwnerAWSAccountId")
    if owner and owner != settings.KILN_ACCOUNT_ID:
        raise QueueError("The specified queue does not exist.", code="QueueDoesNotExist")
    queue = queue_get(params["QueueName"])
    ctx.authorize("sqs:GetQueueUrl", queue.arn)
    return {"QueueUrl": _url(ctx, queue)}


@operation("sqs", "ListQueues")
def list_queues(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("sqs:ListQueues", f"arn:aws:sqs:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:*")
    page = params.get("MaxResults")
    if page is not None and not 1 <= page <= limits.LIST_QUEUES_MAX:
        raise QueueError(f"Value {page} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and {limits.LIST_QUEUES_MAX}.")
    after = ""
    if params.get("NextToken"):
        try:
            after = base64.urlsafe_b64decode(params["NextToken"].encode()).decode()
        except (binascii.Error, UnicodeError):
            raise QueueError("Invalid NextToken value.") from None
    found = queue_list(prefix=params.get("QueueNamePrefix") or "", after=after, limit=(page or limits.LIST_QUEUES_MAX) + 1)
    shown = found[: page or limits.LIST_QUEUES_MAX]
    out: dict[str, Any] = {"QueueUrls": [_url(ctx, q) for q in shown]}
    if page is not None and len(found) > page:
        out["NextToken"] = base64.urlsafe_b64encode(shown[-1].name.encode()).decode()
    return out


@operation("sqs", "GetQueueAttributes")
def get_queue_attributes(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    queue = _authorized(ctx, params, "GetQueueAttributes")
    names = params.get("AttributeNames") or []
    if not names:
        return {}
    counts = queue_counts(queue) if {"All", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"} & set(names) else {"visible": 0, "not_visible": 0, "delayed": 0}
    return {"Attributes": queue_attributes(queue, names, counts)}


@operation("sqs", "SetQueueAttributes")
def set_queue_attributes(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    queue = _authorized(ctx, params, "SetQueueAttributes")
    services.queue_set_attributes(queue=queue, attributes=params.get("Attributes") or {})
    return {}


@operation("sqs", "DeleteQueue")
def delete_queue(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.queue_delete(queue=_authorized(ctx, params, "DeleteQueue"))
    return {}


@operation("sqs", "PurgeQueue")
def purge_queue(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.queue_purge(queue=_authorized(ctx, params, "PurgeQueue"))
    return {}


@operation("sqs", "TagQueue")
def tag_queue(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.queue_tag(queue=_authorized(ctx, params, "TagQueue"), tags=params.get("Tags") or {})
    return {}


@operation("sqs", "UntagQueue")
def untag_queue(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.queue_untag(queue=_authorized(ctx, params, "UntagQueue"), keys=params.get("TagKeys") or [])
    return {}


@operation("sqs", "ListQueueTags")
def list_queue_tags(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    tags = services.queue_tags(_authorized(ctx, params, "ListQueueTags"))
    return {"Tags": tags} if tags else {}


@operation("sqs", "ListDeadLetterSourceQueues")
def list_dead_letter_source_queues(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    queue = _authorized(ctx, params, "ListDeadLetterSourceQueues")
    return {"queueUrls": [_url(ctx, q) for q in queue_dead_letter_sources(queue)]}


# --- messages --------------------------------------------------------------------------------------------------------

def _outgoing(queue: Queue, entry: dict[str, Any], trace: str = "") -> messages.Outgoing:
    system = entry.get("MessageSystemAttributes")
    if trace and not system:  # as SQS does: the request's X-Ray header becomes the message's AWSTraceHeader
        system = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
    return messages.message_validate(queue=queue, body=entry.get("MessageBody"), delay_seconds=entry.get("DelaySeconds"), attributes=entry.get("MessageAttributes"),
                                     system_attributes=system, group_id=entry.get("MessageGroupId"),
                                     deduplication_id=entry.get("MessageDeduplicationId"))


def _sent(sent: messages.Sent) -> dict[str, Any]:
    out = {"MessageId": sent.message_id, "MD5OfMessageBody": sent.body_md5}
    if sent.attributes_md5:
        out["MD5OfMessageAttributes"] = sent.attributes_md5
    if sent.system_attributes_md5:
        out["MD5OfMessageSystemAttributes"] = sent.system_attributes_md5
    if sent.sequence_number:
        out["SequenceNumber"] = sent.sequence_number
    return out


@operation("sqs", "SendMessage")
def send_message(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    queue = _authorized(ctx, params, "SendMessage")
    outgoing = _outgoing(queue, params, ctx.request.headers.get("x-amzn-trace-id", ""))
    return _sent(messages.message_send(queue=queue, outgoing=outgoing, sender_id=ctx.principal.user_id))


def _failed(entry_id: str, error: KilnError) -> dict[str, Any]:
    return {"Id": entry_id, "SenderFault": error.status < 500, "Code": error.code, "Message": error.message}


@operation("sqs", "SendMessageBatch")
def send_message_batch(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    queue = _authorized(ctx, params, "SendMessage")
    entries = params.get("Entries") or []
    messages.batch_check([e.get("Id", "") for e in entries])
    ready: list[tuple[str, messages.Outgoing]] = []
    failed: list[dict[str, Any]] = []
    for entry in entries:
        try:
            ready.append((entry["Id"], _outgoing(queue, entry)))
        except KilnError as error:
            failed.append(_failed(entry["Id"], error))
    messages.batch_size_check(sum(outgoing.size for _, outgoing in ready))
    successful = [{"Id": entry_id, **_sent(messages.message_send(queue=queue, outgoing=outgoing, sender_id=ctx.principal.user_id))} for entry_id, outgoing in ready]
    return {"Successful": successful, "Failed": failed}


def _wanted_attributes(message: Message, names: list[str]) -> dict[str, str]:
    wanted = set(_SYSTEM_NAMES) if ("All" in names or "*" in names) else set(names)
    return {k: v for k, v in messages.system_attributes_of(message, fifo=message.queue.fifo).items() if k in wanted}


def _wanted_message_attributes(message: Message, names: list[str]) -> dict[str, dict[str, Any]]:
    def matches(name: str) -> bool:
        return any(want in ("All", ".*") or want == name or (want.endswith(".*") and name.startswith(want[:-1])) for want in names)

    return {name: value for name, value in message.attributes.items() if matches(name)}


@operation("sqs", "ReceiveMessage")
def receive_message(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    queue = _authorized(ctx, params, "ReceiveMessage")
    received = messages.message_receive(queue=queue, max_messages=params.get("MaxNumberOfMessages"), visibility_timeout=params.get("VisibilityTimeout"),
                                        wait_seconds=params.get("WaitTimeSeconds"))
    system_names = list(params.get("AttributeNames") or []) + list(params.get("MessageSystemAttributeNames") or [])
    out = []
    for item in received:
        message = item.message
        message.queue = queue
        rendered: dict[str, Any] = {"MessageId": message.message_id, "ReceiptHandle": item.receipt_handle, "MD5OfBody": message.body_md5, "Body": message.body}
        attributes = _wanted_attributes(message, system_names)
        if attributes:
            rendered["Attributes"] = attributes
        chosen = _wanted_message_attributes(message, params.get("MessageAttributeNames") or [])
        if chosen:
            rendered["MessageAttributes"] = chosen
            rendered["MD5OfMessageAttributes"] = md5_of_attributes(chosen)
        out.append(rendered)
    return {"Messages": out} if out else {}


@operation("sqs", "DeleteMessage")
def delete_message(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    messages.message_delete(queue=_authorized(ctx, params, "DeleteMessage"), receipt_handle=params["ReceiptHandle"])
    return {}


@operation("sqs", "DeleteMessageBatch")
def delete_message_batch(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    queue = _authorized(ctx, params, "DeleteMessage")
    entries = params.get("Entries") or []
    messages.batch_check([e.get("Id", "") for e in entries])
    failures = messages.message_delete_batch(queue=queue, handles={e["Id"]: e.get("ReceiptHandle", "") for e in entries})
    return {"Successful": [{"Id": e["Id"]} for e in entries if e["Id"] not in failures],
            "Failed": [_failed(entry_id, error) for entry_id, error in failures.items()]}


@operation("sqs", "ChangeMessageVisibility")
def change_message_visibility(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    messages.message_change_visibility(queue=_authorized(ctx, params, "ChangeMessageVisibility"), receipt_handle=params["ReceiptHandle"],
                                       timeout=params["VisibilityTimeout"])
    return {}


@operation("sqs", "ChangeMessageVisibilityBatch")
def change_message_visibility_batch(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    queue = _authorized(ctx, params, "ChangeMessageVisibility")
    entries = params.get("Entries") or []
    messages.batch_check([e.get("Id", "") for e in entries])
    successful, failed = [], []
    for entry in entries:
        try:
            messages.message_change_visibility(queue=queue, receipt_handle=entry.get("ReceiptHandle", ""), timeout=int(entry.get("VisibilityTimeout") or 0))
            successful.append({"Id": entry["Id"]})
        except KilnError as error:
            failed.append(_failed(entry["Id"], error))
    return {"Successful": successful, "Failed": failed}
