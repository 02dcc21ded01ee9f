"""The ``rest-xml`` protocol (S3), driven by the model: find the operation, parse its input, render its output.

``operation_match`` picks the operation from method, path and query by each operation's ``requestUri``
(``/{Bucket}/{Key+}?uploads``): required query keys and required headers (``x-amz-copy-source``) make one
operation more specific than another. Inputs come from the URI, query string, headers, ``x-amz-meta-``
header maps and the payload (a streamed body or an XML document); outputs go back the same way. The root
element of an XML output is not in botocore's model, so the caller names it (``ListBucketResult``, ...).
"""

from __future__ import annotations

import datetime
import email.utils
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from xml.etree import ElementTree as ET

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date

from aws.errors import AwsError
from aws.protocols.xmlshapes import scalar_text, structure_fill, timestamp_iso, xml_document, xml_to_shape

XML_MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]
    required_headers: tuple[str, ...]
    deprecated: bool  # loses to a current operation on the same route (GetBucketNotification vs ...Configuration)


@lru_cache(maxsize=8)
def _routes(service: ServiceModel) -> list[_Route]:
    routes = []
    for name in service.operation_names:
        operation = service.operation_model(name)
        uri = operation.http["requestUri"]
        path, _, query = uri.partition("?")
        regex = "".join("(?P<%s>.+)" % part[1:-2] if part.endswith("+}") else "(?P<%s>[^/]+)" % part[1:-1] if part.startswith("{") else re.escape(part)
                        for part in re.split(r"(\{[^}]+\})", path) if part)
        if path.endswith("}") and not path.endswith("+}"):
            regex += "/?"
        pairs = tuple((k, v if sep else None) for k, sep, v in (item.partition("=") for item in query.split("&") if item))
        required: tuple[str, ...] = ()
        if operation.input_shape is not None:
            members = [m for n, m in operation.input_shape.members.items() if n in operation.input_shape.required_members]
            required = tuple(m.serialization["name"].lower() for m in members if m.serialization.get("location") == "header")
            pairs += tuple((m.serialization["name"], None) for m in members if m.serialization.get("location") == "querystring"
                           and m.serialization["name"] not in dict(pairs))
        routes.append(_Route(name, operation.http["method"], re.compile(f"^{regex or '/'}$"), pairs, required, bool(operation.deprecated)))
    return routes


def operation_match(service: ServiceModel, *, method: str, path: str, query: Mapping[str, Any], headers: Mapping[str, str]) -> tuple[OperationModel, dict[str, str]]:
    """The most specific operation for the request, with the URI's labels; ``MethodNotAllowed`` if none."""
    best: tuple[tuple[int, bool], _Route, dict[str, str]] | None = None
    for route in _routes(service):
        if route.method != method:
            continue
        match = route.pattern.match(path)
        if not match:
            continue
        if any(key not in query or (value is not None and query.get(key) != value) for key, value in route.query):
            continue
        if any(not headers.get(h) for h in route.required_headers):
            continue
        score = (10 * len(route.query) + len(route.required_headers), not route.deprecated)
        if best is None or score > best[0]:
            best = (score, route, match.groupdict())
    if best is None:
        raise AwsError("MethodNotAllowed", "The specified method is not allowed against this resource.", status=405)
    return service.operation_model(best[1].operation), best[2]


def _read_all(body: Any, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``body``, however the stream splits its reads."""
    parts, total = [], 0
    while total < limit:
        chunk = body.read(limit - total)
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def _header_value(shape: Shape, text: str) -> Any:
    if shape.type_name == "timestamp":
        try:
            return email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise AwsError("InvalidArgument", f"Invalid value for {shape.name}: {text}") from None
    if shape.type_name == "boolean":
        return text.strip().lower() == "true"
    return text


def restxml_parse(operation: OperationModel, request: HttpRequest, labels: Mapping[str, str], query: Mapping[str, Any], *, body: Any = None) -> dict[str, Any]:
    """The input parameters; ``body`` is the (checked) request stream for a streaming payload or XML document."""
    shape = operation.input_shape
    params: dict[str, Any] = {}
    if shape is None:
        return params
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        location, wire = member.serialization.get("location"), member.serialization.get("name", name)
        if location == "uri":
            if wire in labels:
                params[name] = labels[wire]
        elif location == "querystring":
            if member.type_name == "map":
                continue
            if wire in query:
                params[name] = _header_value(member, query[wire]) if member.type_name != "list" else query.getlist(wire)  # type: ignore[attr-defined]
        elif location == "header":
            value = request.headers.get(wire)
            if value is not None:
                parsed = _header_value(member, value)
                if parsed is not None:
                    params[name] = parsed
        elif location == "headers":
            prefix = wire.lower()
            found = {k.lower()[len(prefix):]: v for k, v in request.headers.items() if k.lower().startswith(prefix) and len(k) > len(prefix)}
            if found:
                params[name] = found
        elif name == payload:
            if member.type_name == "blob":
                params[name] = body
            elif isinstance(member, StructureShape) and body is not None:
                data = _read_all(body, XML_MAX_BYTES + 1)
                if len(data) > XML_MAX_BYTES:
                    raise AwsError("MaxMessageLengthExceeded", "Your request was too big.")
                if data.strip():
                    try:
                        root = ET.fromstring(data)
                    except ET.ParseError:
                        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.") from None
                    params[name] = xml_to_shape(root, member)
    return params


def _header_text(shape: Shape, value: Any) -> str:
    if shape.type_name == "timestamp":
        if shape.serialization.get("timestampFormat") == "iso8601":
            return timestamp_iso(value)
        return http_date(value.timestamp()) if isinstance(value, datetime.datetime) else str(value)
    return scalar_text(shape, value)


def restxml_response(service: ServiceModel, operation: OperationModel, result: Mapping[str, Any], *, request_id: str, root: str | None = None,
                     head: bool = False) -> HttpResponse | StreamingHttpResponse:
    """Render ``result``: header members as headers, the payload (stream or XML) or the other members as XML."""
    shape = operation.output_shape
    status = int(result.get("__status__") or operation.http.get("responseCode", 200))
    headers: dict[str, str] = {"x-amz-request-id": request_id, "x-amz-id-2": request_id}
    content: Any = b""
    content_type = "application/xml"
    if shape is not None:
        payload = shape.serialization.get("payload")
        for name, member in shape.members.items():
            location, wire = member.serialization.get("location"), member.serialization.get("name", name)
            value = result.get(name)
            if value is None:
                continue
            if location == "header":
                headers[wire] = _header_text(member, value)
            elif location == "headers":
                headers.update({f"{wire}{k}": str(v) for k, v in value.items()})
            elif location == "statusCode":
                status = int(value)
        if payload:
            member = shape.members[payload]
            value = result.get(payload)
            if member.type_name == "blob":
                content = value if value is not None else b""
                content_type = result.get("ContentType") or "binary/octet-stream"
            elif value is not None:
                node = ET.Element(member.serialization.get("name", payload), xmlns=service.metadata.get("xmlNamespace", {}).get("uri", "http://s3.amazonaws.com/doc/2006-03-01/")
                                  if isinstance(service.metadata.get("xmlNamespace"), dict) else "http://s3.amazonaws.com/doc/2006-03-01/")
                structure_fill(node, member, value)
                content = xml_document(node)
        elif root is not None:
            node = ET.Element(root, xmlns="http://s3.amazonaws.com/doc/2006-03-01/")
            structure_fill(node, shape, result)
            content = xml_document(node)
    if head:
        content = b""
    if isinstance(content, bytes):
        response: HttpResponse | StreamingHttpResponse = HttpResponse(content, status=status, content_type=content_type if content else None)
        if not content and "Content-Type" in response and not head:
            del response["Content-Type"]
    else:
        response = StreamingHttpResponse(content if isinstance(content, Iterable) else iter(()), status=status, content_type=content_type)
    for name, value in headers.items():
        response[name] = value
    return response


def s3_error(error: AwsError, *, request_id: str, head: bool = False) -> HttpResponse:
    root = ET.Element("Error")
    ET.SubElement(root, "Code").text = error.code
    ET.SubElement(root, "Message").text = error.message
    for name, value in error.fields.items():
        ET.SubElement(root, name).text = str(value)
    ET.SubElement(root, "RequestId").text = request_id
    ET.SubElement(root, "HostId").text = request_id
    response = HttpResponse(b"" if head else xml_document(root), status=error.status, content_type="application/xml")
    response["x-amz-request-id"] = request_id
    response["x-amz-id-2"] = request_id
    return response
