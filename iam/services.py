"""Writes to roles. Every write validates the policy document first, so no invalid policy is stored."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction

from core.errors import Conflict, ValidationFailed
from iam.models import Role
from iam.policy import policy_parse

ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


def role_create(*, name: str, policy_document: str | dict[str, Any], description: str = "") -> Role:
    if not ROLE_NAME.match(name or ""):
        raise ValidationFailed("Role name must be 1-64 characters of letters, digits and +=,.@_-.", details={"field": "name"})
    document = policy_parse(policy_document)
    try:
        with transaction.atomic():
            return Role.objects.create(name=name, policy_document=document, description=description)
    except IntegrityError:
        raise Conflict(f"Role {name!r} already exists.") from None


def role_update(*, role: Role, policy_document: str | dict[str, Any] | None = None, description: str | None = None) -> Role:
    if policy_document is not None:
        role.policy_document = policy_parse(policy_document)
    if description is not None:
        role.description = description
    role.save()
    return role


def role_resolve(name_or_arn: str) -> Role:
    """Return the role named by its name or ARN (``arn:aws:iam::ACCOUNT:role/NAME``)."""
    name = name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
    try:
        return Role.objects.get(name=name)
    except Role.DoesNotExist:
        raise ValidationFailed(f"Role {name_or_arn!r} does not exist; create it first.", details={"field": "role"}) from None


def role_delete(*, role: Role) -> None:
    """Delete a role no function currently uses (older revisions keep running without it)."""
    from django.db.models import F

    users = list(role.revisions.filter(function__latest=F("pk")).values_list("function__name", flat=True)[:5])
    if users:
        raise Conflict(f"Role {role.name} is used by function(s) {', '.join(users)}; change their role first.", details={"functions": users})
    role.delete()
