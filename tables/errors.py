"""The table service's domain errors, named as DynamoDB names them (the adapter sends ``code`` as ``__type``)."""

from __future__ import annotations

from typing import Any

from core.errors import KilnError


class TableError(KilnError):
    status = 400
    code = "ValidationException"


class TableValidation(TableError):
    """A request DynamoDB would refuse as malformed: ``ValidationException``."""

    code = "ValidationException"


class TableNotFound(TableError):
    code = "ResourceNotFoundException"


class TableInUse(TableError):
    code = "ResourceInUseException"


class ConditionFailed(TableError):
    """A ``ConditionExpression`` (or ``Expected``) that does not hold; ``item`` is the item as it was, for
    ``ReturnValuesOnConditionCheckFailure: ALL_OLD``."""

    code = "ConditionalCheckFailedException"

    def __init__(self, message: str = "The conditional request failed", *, item: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.item = item


class TransactionCanceled(TableError):
    code = "TransactionCanceledException"

    def __init__(self, message: str, *, reasons: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.reasons = reasons


class TransactionConflict(TableError):
    code = "TransactionConflictException"


class IdempotentParameterMismatch(TableError):
    code = "IdempotentParameterMismatchException"


class LimitExceeded(TableError):
    code = "LimitExceededException"


class DuplicateItem(TableError):
    """A PartiQL ``INSERT`` of an item whose key is already in the table."""

    code = "DuplicateItemException"


class StatementDenied(TableError):
    """One statement of a PartiQL batch that IAM refused (the batch answers it in its place, ``AccessDenied``)."""

    code = "AccessDeniedException"
