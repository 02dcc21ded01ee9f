"""API Gateway's Lambda proxy events, payload format 1.0 and 2.0, built from a Django request.

Pure apart from reading the request: header names are lower-cased as HTTP APIs deliver them; in 2.0
duplicate headers and query keys are comma-joined and cookies move to ``cookies``; a body whose
content type is not text arrives base64-encoded with ``isBase64Encoded: true``.
"""

from __future__ import annotations

import base64
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest
from django.utils.encoding import escape_uri_path

_TEXT_TYPES = ("application/json", "application/xml", "application/javascript", "application/ecmascript", "application/graphql", "application/ld+json")
_ID_CHARS = string.ascii_letters + string.digits


def gateway_request_id() -> str:
    """An id in the style of API Gateway's (16 characters and '=')."""
    return "".join(secrets.choice(_ID_CHARS) for _ in range(15)) + "="


def is_text(content_type: str) -> bool:
    """Whether API Gateway would pass a body of this type as text rather than base64."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if not kind:
        return False
    return kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith("+json") or kind.endswith("+xml")


def request_headers(request: HttpRequest) -> list[tuple[str, str]]:
    """The request's headers as ``(lower-case name, value)`` pairs, in the order WSGI gives them."""
    headers: list[tuple[str, str]] = []
    for key, value in request.META.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").lower(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.append((key.replace("_", "-").lower(), value))
    return headers


def source_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "127.0.0.1"


def trace_id(now: datetime) -> str:
    return f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}"


def _with_forwarded(request: HttpRequest, headers: list[tuple[str, str]], now: datetime) -> list[tuple[str, str]]:
    """The headers API Gateway adds to what the client sent (unless the client sent them)."""
    present = {name for name, _ in headers}
    port = request.META.get("SERVER_PORT") or ("443" if request.is_secure() else "80")
    added = [("x-amzn-trace-id", trace_id(now)), ("x-forwarded-for", source_ip(request)), ("x-forwarded-port", str(port)), ("x-forwarded-proto", request.scheme or "http")]
    return headers + [(name, value) for name, value in added if name not in present]


@dataclass
class RequestInfo:
    """What the gateway decided about a request, beside the request itself."""

    api_id: str
    domain_name: str
    stage: str
    route_key: str
    resource_path: str  # the route's path template ("$default" for the default route)
    raw_path: str  # the path as requested, including a named stage's prefix
    path_parameters: dict[str, str] = field(default_factory=dict)
    stage_variables: dict[str, str] = field(default_factory=dict)
    request_id: str = field(default_factory=gateway_request_id)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def domain_prefix(self) -> str:
        return self.domain_name.split(".", 1)[0]

    @property
    def epoch_ms(self) -> int:
        return int(self.now.timestamp() * 1000)

    @property
    def time(self) -> str:
        return self.now.strftime("%d/%b/%Y:%H:%M:%S +0000")


def _body(request: HttpRequest) -> tuple[str | None, bool]:
    raw = request.body
    if not raw:
        return None, False
    if is_text(request.META.get("CONTENT_TYPE", "")):
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(raw).decode("ascii"), True


def _protocol(request: HttpRequest) -> str:
    return request.META.get("SERVER_PROTOCOL") or "HTTP/1.1"


def event_v1(request: HttpRequest, info: RequestInfo) -> dict[str, Any]:
    """Payload format 1.0 (the REST API shape, as HTTP APIs send it)."""
    headers = _with_forwarded(request, request_headers(request), info.now)
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True):
        multi_query.setdefault(name, []).append(value)
    body, encoded = _body(request)
    ip, agent = source_ip(request), request.META.get("HTTP_USER_AGENT", "")
    return {
        "version": "1.0",
        "resource": info.resource_path,
        "path": info.raw_path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "requestContext": {
            "accountId": settings.KILN_ACCOUNT_ID,
            "apiId": info.api_id,
            "authorizer": {"claims": None, "scopes": None},
            "domainName": info.domain_name,
            "domainPrefix": info.domain_prefix,
            "extendedRequestId": info.request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": None, "accountId": None, "caller": None, "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None, "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
                "principalOrgId": None, "sourceIp": ip, "user": None, "userAgent": agent, "userArn": None,
            },
            "path": info.raw_path,
            "protocol": _protocol(request),
            "requestId": info.request_id,
            "requestTime": info.time,
            "requestTimeEpoch": info.epoch_ms,
            "resourceId": info.route_key,
            "resourcePath": info.resource_path,
            "stage": info.stage,
        },
        "pathParameters": info.path_parameters or None,
        "stageVariables": info.stage_variables or None,
        "body": body,
        "isBase64Encoded": encoded,
    }


def event_v2(request: HttpRequest, info: RequestInfo) -> dict[str, Any]:
    """Payload format 2.0; absent parts are left out, as API Gateway leaves them out."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in _with_forwarded(request, request_headers(request), info.now):
        if name == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    body, encoded = _body(request)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": info.route_key,
        "rawPath": info.raw_path,
        "rawQueryString": request.META.get("QUERY_STRING", ""),
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": settings.KILN_ACCOUNT_ID,
        "apiId": info.api_id,
        "domainName": info.domain_name,
        "domainPrefix": info.domain_prefix,
        "http": {
            "method": request.method,
            "path": info.raw_path,
            "protocol": _protocol(request),
            "sourceIp": source_ip(request),
            "userAgent": request.META.get("HTTP_USER_AGENT", ""),
        },
        "requestId": info.request_id,
        "routeKey": info.route_key,
        "stage": info.stage,
        "time": info.time,
        "timeEpoch": info.epoch_ms,
    }
    if body is not None:
        event["body"] = body
    if info.path_parameters:
        event["pathParameters"] = info.path_parameters
    event["isBase64Encoded"] = encoded
    if info.stage_variables:
        event["stageVariables"] = info.stage_variables
    return event


def raw_path_of(path: str) -> str:
    """The request path as sent (Django gives it decoded)."""
    return escape_uri_path(path)
