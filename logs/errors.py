"""CloudWatch Logs' errors as domain errors: the code is the Logs error shape's name."""

from __future__ import annotations

from core.errors import KilnError


class LogsError(KilnError):
    status = 400
    code = "InvalidParameterException"


def invalid(message: str) -> LogsError:
    return LogsError(message, code="InvalidParameterException")


def no_group() -> LogsError:
    return LogsError("The specified log group does not exist.", code="ResourceNotFoundException")


def no_stream() -> LogsError:
    return LogsError("The specified log stream does not exist.", code="ResourceNotFoundException")


def exists(what: str) -> LogsError:
    return LogsError(f"The specified {what} already exists", code="ResourceAlreadyExistsException")


def limit(message: str) -> LogsError:
    return LogsError(message, code="LimitExceededException")
