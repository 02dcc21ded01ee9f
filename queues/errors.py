"""SQS's errors as domain errors: the code is the SQS error shape's name (``QueueDoesNotExist``, ...).

The AWS adapter renders them in SQS's JSON form and names the legacy query code in ``x-amzn-query-error``
(``QUERY_CODES`` there); the domain only states what went wrong.
"""

from __future__ import annotations

from core.errors import KilnError


class QueueError(KilnError):
    status = 400
    code = "InvalidParameterValue"


def invalid(message: str) -> QueueError:
    return QueueError(message, code="InvalidParameterValue")


def no_queue() -> QueueError:
    return QueueError("The specified queue does not exist.", code="QueueDoesNotExist")
