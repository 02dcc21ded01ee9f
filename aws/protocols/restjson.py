"""The ``rest-json`` protocol (Lambda), driven by botocore's model: find the operation, parse, render.

Operations are matched on method and ``requestUri`` as REST-XML's are (``restxml.operation_match``, which
is protocol-neutral). Inputs come from URI labels, the query string, headers and a JSON body whose members
follow the input shape (blobs base64, as ``ZipFile``), or a raw blob payload (``Invoke``'s ``Payload``).
Outputs go back the same way: header and status-code members, then a raw payload or a JSON document.
Errors are ``{"Type": "User", "message": ...}`` with ``X-Amzn-ErrorType``, as Lambda answers them.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape
from django.http import HttpRequest, HttpResponse

from aws.errors import AwsError
from aws.protocols.restxml import operation_match

JSON_CONTENT_TYPE = "application/json"


def restjson_match(service: ServiceModel, request: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
    """The operation for the request, with its URI labels; ``UnknownOperationException`` (404) if none."""
    try:
        return operation_match(service, method=request.method or "GET", path=request.path, query=request.GET, headers=request.headers)
    except AwsError:
        raise AwsError("UnknownOperationException", f"No {service.service_id} operation is {request.method} {request.path}.", status=404) from None


def _scalar_in(shape: Shape, text: str, wire: str) -> Any:
    """A URI label, query or header value as the member's type; strings with a NUL refused (no store keeps them)."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise AwsError("InvalidParameterValueException", f"{wire} must be an integer, not {text!r}.") from None
    if kind == "boolean":
        return text.strip().lower() == "true"
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            raise AwsError("InvalidParameterValueException", f"{wire} must be a number, not {text!r}.") from None
    if "\x00" in text:
        raise _has_nul(wire)
    return text


def _has_nul(path: str) -> AwsError:
    return AwsError("ValidationException", f"1 validation error detected: Value at '{path.lstrip('.')}' failed to satisfy constraint: "
                                           "Member must not contain the NUL character (U+0000)")


def required_check(shape: Shape, params: Mapping[str, Any], path: str = "", *, missing: Callable[[str], AwsError] | None = None) -> None:
    """The first required member of ``shape`` that ``params`` lacks (or has as null) refused: ``missing(name)`` when the
    service words it its own way, else ``ValidationException`` as Lambda, DynamoDB, EventBridge and Scheduler word it."""
    for name in shape.required_members:
        if params.get(name) is None:
            if missing is not None:
                raise missing(f"{path.lstrip('.')}.{name}" if path else name)
            where = f"{path.lstrip('.')}.{name}" if path else name[:1].lower() + name[1:]
            raise AwsError("ValidationException", f"1 validation error detected: Value null at '{where}' failed to satisfy constraint: Member must not be null")


def _json_in(shape: Shape, value: Any, path: str) -> Any:
    """A JSON value as the shape's Python value (blobs decoded); type errors as AWS's serialization error."""
    if value is None:
        return None
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            raise _bad_type(path, "structure")
        converted = {k: _json_in(shape.members[k], v, f"{path}.{k}") for k, v in value.items() if k in shape.members}
        if path:  # a nested structure (the input's own members may come from the URI, query or headers: restjson_parse checks them)
            required_check(shape, converted, path)
        return converted
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            raise _bad_type(path, "list")
        if any(v is None for v in value):
            where = f"{path.lstrip('.')}[{value.index(None)}]"
            raise AwsError("ValidationException", f"1 validation error detected: Value null at '{where}' failed to satisfy constraint: Member must not be null")
        return [_json_in(shape.member, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            raise _bad_type(path, "map")
        return {k: _json_in(shape.value, v, f"{path}.{k}") for k, v in value.items()}
    if kind == "blob":
        if not isinstance(value, str):
            raise _bad_type(path, "base64 string")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise AwsError("InvalidParameterValueException", f"{path} is not valid base64.") from None
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad_type(path, "integer")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _bad_type(path, "boolean")
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad_type(path, "number")
    elif kind == "string":
        if not isinstance(value, str):
            raise _bad_type(path, "string")
        if "\x00" in value:
            raise _has_nul(path)
    return value


def _bad_type(path: str, expected: str) -> AwsError:
    return AwsError("InvalidRequestContentException", f"Could not parse request body into json: {path.lstrip('.')} must be a {expected}.")


def restjson_parse(operation: OperationModel, request: HttpRequest, labels: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """The input parameters of the request (``body`` is the whole, already checked, request body)."""
    shape = operation.input_shape
    params: dict[str, Any] = {}
    if shape is None:
        return params
    payload = shape.serialization.get("payload")
    body_members: dict[str, Shape] = {}
    for name, member in shape.members.items():
        location, wire = member.serialization.get("location"), member.serialization.get("name", name)
        if location == "uri":
            if wire in labels:  # typed as the member is (a layer's VersionNumber is an integer)
                params[name] = _scalar_in(member, labels[wire], wire)
        elif location == "querystring":
            if isinstance(member, ListShape):
                values = request.GET.getlist(wire)
                if values:
                    params[name] = [_scalar_in(member.member, v, wire) for v in values]
            elif wire in request.GET:
                params[name] = _scalar_in(member, request.GET[wire], wire)
        elif location == "header":
            value = request.headers.get(wire)
            if value is not None:
                params[name] = _scalar_in(member, value, wire)
        elif name == payload and member.type_name == "blob":
            params[name] = body
        else:
            body_members[name] = member
    if payload and payload in body_members:  # a structure payload is the whole document
        params[payload] = json_document(body, body_members[payload], payload)
    elif body_members:
        document = json_document(body, shape, "")
        for name in body_members:
            if document and name in document:
                params[name] = document[name]
    required_check(shape, params)
    return params


def json_document(body: bytes, shape: Shape, path: str) -> Any:
    """A JSON request body as the shape's values (``{}`` when empty); errors as ``InvalidRequestContentException``."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
        if not isinstance(value, dict):
            raise AwsError("InvalidRequestContentException", "Could not parse request body into json: the body must be a JSON object.")
        return _json_in(shape, value, path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AwsError("InvalidRequestContentException", f"Could not parse request body into json: {exc}") from None
    except RecursionError:  # json.loads (or the walk of a recursive shape) of a document nested thousands deep
        raise AwsError("InvalidRequestContentException", "Could not parse request body into json: the document is nested too deeply.") from None


def json_value_out(shape: Shape, value: Any) -> Any:
    """A value as JSON for the shape: blobs base64, timestamps epoch seconds, ``None`` members left out."""
    if value is None:
        return None
    if isinstance(shape, StructureShape):
        return {k: json_value_out(shape.members[k], v) for k, v in value.items() if k in shape.members and v is not None}
    if isinstance(shape, ListShape):
        return [json_value_out(shape.member, v) for v in value]
    if isinstance(shape, MapShape):
        return {k: json_value_out(shape.value, v) for k, v in value.items()}
    if shape.type_name == "blob":
        return base64.b64encode(value).decode() if isinstance(value, bytes) else value
    if shape.type_name == "timestamp" and isinstance(value, datetime.datetime):
        return value.timestamp()
    return value


def restjson_response(operation: OperationModel, result: Mapping[str, Any], *, request_id: str) -> HttpResponse:
    """Render ``result``: header and status members, then the raw blob payload or the JSON document."""
    shape = operation.output_shape
    status = int(operation.http.get("responseCode", 200))
    headers = {"x-amzn-RequestId": request_id}
    content = b""
    content_type = JSON_CONTENT_TYPE
    if shape is not None:
        payload = shape.serialization.get("payload")
        document: dict[str, Any] = {}
        for name, member in shape.members.items():
            value = result.get(name)
            if value is None:
                continue
            location, wire = member.serialization.get("location"), member.serialization.get("name", name)
            if location == "header":
                headers[wire] = str(value).lower() if isinstance(value, bool) else str(value)
            elif location == "statusCode":
                status = int(value)
            elif name != payload:
                document[name] = json_value_out(member, value)
        if payload:
            value = result.get(payload)
            member = shape.members[payload]
            if member.type_name == "blob":
                content = value or b""
            elif value is not None:
                content = json.dumps(json_value_out(member, value)).encode()
        else:
            content = json.dumps(document).encode()
    elif status != 204:
        content = b"{}"
    response = HttpResponse(content, status=status, content_type=content_type)
    for name, value in headers.items():
        response[name] = value
    return response


def restjson_error(error: AwsError, request_id: str) -> HttpResponse:
    """An error as Lambda sends it: the code in ``X-Amzn-ErrorType``, ``Type`` and ``message`` in the body."""
    body: dict[str, Any] = {"Type": "User" if error.sender else "Service", "message": error.message}
    body.update({k: v for k, v in error.fields.items() if k not in body})
    response = HttpResponse(json.dumps(body).encode(), status=error.status, content_type=JSON_CONTENT_TYPE)
    response["X-Amzn-ErrorType"] = error.code
    response["x-amzn-RequestId"] = request_id
    if "retryAfterSeconds" in error.fields:
        response["Retry-After"] = str(error.fields["retryAfterSeconds"])
    return response
