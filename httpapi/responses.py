"""Turning a function's result into the HTTP response, as API Gateway maps it, and its error answers.

1.0: ``statusCode`` (required), ``headers``, ``multiValueHeaders``, ``body``, ``isBase64Encoded``.
2.0: the same plus ``cookies`` (each a ``Set-Cookie`` header); a result without ``statusCode`` is
sent as 200 ``application/json`` with the JSON of the result as body (a string result as it is).
Anything else is malformed: 502 ``{"message": "Internal Server Error"}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.http import HttpResponse

DEFAULT_CONTENT_TYPE = "text/plain; charset=utf-8"


class MalformedResponse(Exception):
    """The function's result is not a response API Gateway can send."""


def gateway_error(status: int, message: str) -> HttpResponse:
    """API Gateway's own error answers: ``{"message": ...}`` as JSON."""
    return HttpResponse(json.dumps({"message": message}), status=status, content_type="application/json")


def internal_error() -> HttpResponse:
    return gateway_error(502, "Internal Server Error")


def _scalar(value: Any, what: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise MalformedResponse(f"{what} must be a string or a number")


def _status(value: Any) -> int:
    if isinstance(value, bool):
        raise MalformedResponse("statusCode must be an integer")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 100 <= value <= 599:
        raise MalformedResponse("statusCode must be an integer from 100 to 599")
    return value


def _body_bytes(body: Any, encoded: Any) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        # API Gateway sends a non-string body as its JSON text.
        body = json.dumps(body, separators=(",", ":"))
    if encoded is True:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedResponse("body is not valid base64") from None
    return body.encode("utf-8")


def map_result(result: str | None, payload_format_version: str) -> HttpResponse:
    """The HTTP response for a successful invocation's result text, or ``MalformedResponse``."""
    try:
        value = json.loads(result) if result else None
    except ValueError:
        raise MalformedResponse("the result is not JSON") from None
    if payload_format_version == "2.0" and not (isinstance(value, dict) and "statusCode" in value):
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        return HttpResponse(text.encode("utf-8"), status=200, content_type="application/json")
    if not isinstance(value, dict) or "statusCode" not in value:
        raise MalformedResponse("the result has no statusCode")
    status = _status(value["statusCode"])
    headers: list[tuple[str, str]] = []
    single = {} if value.get("headers") is None else value["headers"]
    multi = {} if value.get("multiValueHeaders") is None else value["multiValueHeaders"]
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedResponse("headers and multiValueHeaders must be objects")
    for name, item in single.items():
        headers.append((str(name), _scalar(item, f"header {name}")))
    for name, items in multi.items():
        if not isinstance(items, list):
            raise MalformedResponse(f"multiValueHeaders.{name} must be a list")
        if str(name).lower() in {n.lower() for n, _ in headers if n.lower() != "set-cookie"}:
            headers = [(n, v) for n, v in headers if n.lower() != str(name).lower()]
        headers.extend((str(name), _scalar(item, f"header {name}")) for item in items)
    cookies = value.get("cookies") if payload_format_version == "2.0" else None
    if cookies is not None:
        if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
            raise MalformedResponse("cookies must be a list of strings")
        headers.extend(("Set-Cookie", c) for c in cookies)
    response = HttpResponse(_body_bytes(value.get("body"), value.get("isBase64Encoded")), status=status)
    has_type = any(n.lower() == "content-type" for n, _ in headers)
    if not has_type:
        response["Content-Type"] = DEFAULT_CONTENT_TYPE
    set_headers(response, headers)
    return response


def set_headers(response: HttpResponse, headers: list[tuple[str, str]]) -> None:
    """Set headers, keeping repeats: Django's response holds one value per name, so repeats are joined,
    except ``Set-Cookie`` which each become their own header line."""
    joined: dict[str, tuple[str, list[str]]] = {}
    for name, value in headers:
        if "\n" in name or "\r" in name or "\n" in value or "\r" in value:
            raise MalformedResponse("header names and values cannot contain newlines")
        if name.lower() == "set-cookie":
            _add_cookie(response, value)
            continue
        joined.setdefault(name.lower(), (name, []))[1].append(value)
    for name, values in joined.values():
        response[name] = ",".join(values)


def _add_cookie(response: HttpResponse, raw: str) -> None:
    from http.cookies import SimpleCookie

    parsed = SimpleCookie()
    try:
        parsed.load(raw)
    except Exception:  # noqa: BLE001 - a cookie Python cannot parse is passed on unparsed below
        parsed = SimpleCookie()
    if not parsed:
        raise MalformedResponse(f"cannot parse cookie {raw!r}")
    for key, morsel in parsed.items():
        response.cookies[key] = morsel
