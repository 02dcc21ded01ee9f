"""The ``json`` protocol (awsJson 1.0/1.1: CloudWatch Logs, and later SQS, DynamoDB, EventBridge), driven by the model.

The operation is named by ``X-Amz-Target: <targetPrefix>.<Operation>``; input and output are JSON documents
shaped by the operation's shapes (``restjson``'s converters, blobs base64, timestamps epoch seconds).
Errors are ``{"__type": code, "message": ...}``, as those services answer them; a query-compatible service (SQS)
also sends ``x-amzn-query-error: <query code>;Sender``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import OperationModel, OperationNotFoundError, ServiceModel
from django.http import HttpRequest, HttpResponse

from aws.errors import AwsError
from aws.protocols.restjson import json_document, json_value_out, required_check


def _content_type(service: ServiceModel) -> str:
    return f"application/x-amz-json-{service.metadata.get('jsonVersion', '1.1')}"


def json_operation(service: ServiceModel, request: HttpRequest) -> OperationModel:
    target = request.headers.get("x-amz-target", "")
    prefix, _, name = target.partition(".")
    if request.method != "POST" or prefix != service.metadata.get("targetPrefix") or not name:
        raise AwsError("UnknownOperationException", f"Give the operation as X-Amz-Target: {service.metadata.get('targetPrefix')}.<Operation> on a POST.")
    try:
        return service.operation_model(name)
    except OperationNotFoundError:
        raise AwsError("UnknownOperationException", f"{service.service_id} has no operation {name}.") from None


def json_parse(operation: OperationModel, body: bytes, *, missing: Callable[[str], AwsError] | None = None) -> dict[str, Any]:
    """The input members of a JSON body, typed by the shape; a required member absent is refused (``restjson.required_check``:
    ``missing(name)``, or ``ValidationException``), so no handler meets a request without one."""
    if operation.input_shape is None:
        return {}
    params = json_document(body, operation.input_shape, "") or {}
    required_check(operation.input_shape, params, missing=missing)
    return params


def json_response(service: ServiceModel, operation: OperationModel, result: Mapping[str, Any], *, request_id: str) -> HttpResponse:
    document = json_value_out(operation.output_shape, dict(result)) if operation.output_shape is not None else {}
    response = HttpResponse(json.dumps(document).encode(), content_type=_content_type(service))
    response["x-amzn-RequestId"] = request_id
    return response


def json_error(service: ServiceModel | None, error: AwsError, request_id: str) -> HttpResponse:
    body: dict[str, Any] = {"__type": error.code, "message": error.message}
    body.update({k: v for k, v in error.fields.items() if k not in body})
    content_type = _content_type(service) if service is not None else "application/x-amz-json-1.1"
    response = HttpResponse(json.dumps(body).encode(), status=error.status, content_type=content_type)
    response["x-amzn-RequestId"] = request_id
    if service is not None and "awsQueryCompatible" in service.metadata:
        # SDKs read the error code from this header (botocore's _do_query_compatible_error_parse): "<query code>;Sender|Receiver".
        response["x-amzn-query-error"] = f"{error.query_code or error.code};{'Sender' if error.sender else 'Receiver'}"
    return response
