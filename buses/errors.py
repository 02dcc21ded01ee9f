"""EventBridge's errors as domain errors; ``code`` is EventBridge's exception name, rendered as is."""

from __future__ import annotations

from core.errors import KilnError


class BusError(KilnError):
    status = 400
    code = "ValidationException"


def invalid(message: str) -> BusError:
    return BusError(message, code="ValidationException")


def not_found(message: str) -> BusError:
    return BusError(message, code="ResourceNotFoundException")


def limit_exceeded(message: str = "The requested resource exceeds the maximum number allowed.") -> BusError:
    return BusError(message, code="LimitExceededException")


def already_exists(message: str) -> BusError:
    return BusError(message, code="ResourceAlreadyExistsException")


def bad_pattern(message: str) -> BusError:
    return BusError(message, code="InvalidEventPatternException")


class TargetFailure(Exception):
    """A delivery attempt that failed: EventBridge's error code for the DLQ and whether to retry."""

    def __init__(self, code: str, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
