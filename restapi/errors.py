"""The REST API's wire format for errors: ``{"error": {"code", "message", "details"}}`` with the error's status.

Domain errors (``core.errors``) keep their codes and statuses; DRF's own exceptions (authentication,
permissions, parse errors, validation) and Django's 404/403 are named in the same envelope. The AWS endpoint
maps the same domain errors to each service's own format instead (``aws.errors``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import KilnError


def error_envelope(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape of the REST API."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def kiln_error_envelope(error: KilnError) -> dict[str, Any]:
    """A domain error in the REST API's envelope (its code, message and details as they are)."""
    return error_envelope(error.code, error.message, error.details)


_DRF_CODES = {
    drf_exceptions.NotAuthenticated: "NotAuthenticated",
    drf_exceptions.AuthenticationFailed: "AuthenticationFailed",
    drf_exceptions.PermissionDenied: "AccessDeniedException",
    drf_exceptions.NotFound: "ResourceNotFoundException",
    drf_exceptions.MethodNotAllowed: "MethodNotAllowed",
    drf_exceptions.UnsupportedMediaType: "UnsupportedMediaTypeException",
    drf_exceptions.ParseError: "InvalidRequestContentException",
    drf_exceptions.Throttled: "TooManyRequestsException",
    drf_exceptions.ValidationError: "InvalidParameterValueException",
}


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
        return "Invalid input."
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else "Invalid input."
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every error leaves the API in the one envelope."""
    if isinstance(exc, KilnError):
        return Response(kiln_error_envelope(exc), status=exc.status)
    if isinstance(exc, RecursionError):  # json.loads of a document nested thousands deep, while DRF parses the body
        return Response(error_envelope("InvalidRequestContentException", "The JSON document is nested too deeply."), status=400)
    if isinstance(exc, (OperationalError, InterfaceError)):  # the database away (a restart, a failover): try again, not a bug
        return Response(error_envelope("ServiceUnavailable", "Kiln's database is not answering right now; try again in a moment."),
                        status=503, headers={"Retry-After": "1"})
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "InvalidRequest")
    if isinstance(exc, drf_exceptions.ValidationError):
        message = _first_message(exc.detail)
        details: dict[str, Any] = {"fields": exc.detail} if isinstance(exc.detail, dict) else {"errors": exc.detail}
    else:
        message = _first_message(getattr(exc, "detail", str(exc)))
        details = {}
    response.data = error_envelope(code, message, details)
    return response
