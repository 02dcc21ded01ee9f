"""IAM's domain errors, with IAM's error codes (the wire layers choose status and envelope)."""

from __future__ import annotations

from core.errors import Conflict, KilnError, NotFound, ValidationFailed


class NoSuchEntity(NotFound):
    code = "NoSuchEntity"


class EntityAlreadyExists(Conflict):
    code = "EntityAlreadyExists"


class DeleteConflict(Conflict):
    code = "DeleteConflict"


class LimitExceeded(Conflict):
    code = "LimitExceeded"


class MalformedPolicyDocument(ValidationFailed):
    code = "MalformedPolicyDocument"


class InvalidInput(ValidationFailed):
    code = "ValidationError"


class AccessDenied(KilnError):
    status = 403
    code = "AccessDenied"
