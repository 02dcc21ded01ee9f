"""CORS as API Gateway applies it from an API's (or function URL's) configuration.

When CORS is configured, a preflight ``OPTIONS`` (with ``Origin`` and ``Access-Control-Request-Method``)
is answered by the gateway itself, never by a route; other responses get the configured headers,
which replace any CORS headers the function set.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

_CORS_PREFIX = "access-control-"


def is_preflight(request: HttpRequest, cors: dict[str, Any] | None) -> bool:
    return bool(cors) and request.method == "OPTIONS" and "HTTP_ORIGIN" in request.META and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META


def _allowed_origin(origin: str, cors: dict[str, Any]) -> str | None:
    origins = cors.get("allowOrigins") or []
    if origin in origins:
        return origin
    if "*" in origins:
        return "*"
    return None


def preflight_response(request: HttpRequest, cors: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(status=204)
    origin = _allowed_origin(request.META["HTTP_ORIGIN"], cors)
    if origin is None:
        return response
    response["Access-Control-Allow-Origin"] = origin
    if cors.get("allowMethods"):
        response["Access-Control-Allow-Methods"] = ",".join(cors["allowMethods"])
    if cors.get("allowHeaders"):
        allow = cors["allowHeaders"]
        if "*" in allow and request.META.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"):
            response["Access-Control-Allow-Headers"] = request.META["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"]
        else:
            response["Access-Control-Allow-Headers"] = ",".join(allow)
    if cors.get("maxAge") is not None:
        response["Access-Control-Max-Age"] = str(cors["maxAge"])
    if cors.get("allowCredentials"):
        response["Access-Control-Allow-Credentials"] = "true"
    if origin != "*":
        response["Vary"] = "Origin"
    return response


def add_cors_headers(request: HttpRequest, response: HttpResponse, cors: dict[str, Any] | None) -> HttpResponse:
    """Add the configured CORS headers to a non-preflight response (nothing without an allowed Origin)."""
    if not cors or "HTTP_ORIGIN" not in request.META:
        return response
    origin = _allowed_origin(request.META["HTTP_ORIGIN"], cors)
    if origin is None:
        return response
    for name in [n for n in response.headers if n.lower().startswith(_CORS_PREFIX)]:
        del response[name]
    response["Access-Control-Allow-Origin"] = origin
    if cors.get("exposeHeaders"):
        response["Access-Control-Expose-Headers"] = ",".join(cors["exposeHeaders"])
    if cors.get("allowCredentials"):
        response["Access-Control-Allow-Credentials"] = "true"
    if origin != "*":
        response["Vary"] = "Origin"
    return response
