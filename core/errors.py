"""Kiln's domain errors and the one error envelope of the REST API.

Services raise ``KilnError`` subclasses; the API turns any of them, and DRF's own exceptions, into
``{"error": {"code": "...", "message": "...", "details": {...}}}`` with the error's HTTP status.
Codes follow AWS Lambda's exception names where Lambda has one, so clients can branch on them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class KilnError(Exception):
    """A failure a caller can fix or must be told about; carries its HTTP status and code."""

    status: int = 400
    code: str = "InvalidRequest"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code is not None:
            self.code = code

    def envelope(self) -> dict[str, Any]:
        return error_envelope(self.code, self.message, self.details)


class ValidationFailed(KilnError):
    status = 400
    code = "InvalidParameterValueException"


class InvalidRequestContent(KilnError):
    status = 400
    code = "InvalidRequestContentException"


class NotFound(KilnError):
    status = 404
    code = "ResourceNotFoundException"


class Conflict(KilnError):
    status = 409
    code = "ResourceConflictException"


class PreconditionFailed(KilnError):
    """A write conditioned on a revision id that is no longer current."""

    status = 412
    code = "PreconditionFailedException"


class TooLarge(KilnError):
    status = 413
    code = "RequestTooLargeException"


class Throttled(KilnError):
    status = 429
    code = "TooManyRequestsException"


class ServiceUnavailable(KilnError):
    status = 503
    code = "ServiceException"


class InvocationTimeout(KilnError):
    status = 504
    code = "InvocationTimeout"


def error_envelope(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape of the REST API."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


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
        return Response(exc.envelope(), status=exc.status)
    if isinstance(exc, RecursionError):  # json.loads of a document nested thousands deep, while DRF parses the body
        return Response(error_envelope("InvalidRequestContentException", "The JSON document is nested too deeply."), status=400)
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
