"""Kiln's domain errors: what went wrong, with a code, an HTTP status and details, before any wire format.

Services raise ``KilnError`` subclasses. Each wire format renders them its own way: the REST API's envelope
(``restapi.errors``), the AWS endpoint's per-service errors (``aws.errors.from_domain``). Codes follow AWS
Lambda's exception names where Lambda has one, so clients can branch on them.
"""

from __future__ import annotations

from typing import Any


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
