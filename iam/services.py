"""Writes to roles: create, update, delete, trust policy, inline and attached policies.

Every write validates the policy document first, so no invalid policy is stored. Roles made through the
REST API and console carry ``policy_document``; roles made through the IAM API start with an empty one and
take inline policies (``RolePolicy``) and attached managed policies, all of which count in evaluation.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction

from core.errors import Conflict, ValidationFailed
from iam.errors import DeleteConflict, EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from iam.models import ManagedPolicy, Role, RolePolicy, default_trust_policy
from iam.policy import policy_parse

ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
PATH = re.compile(r"^/([\x21-\x7e]{0,510}/)?$")
EMPTY_POLICY: dict[str, Any] = {"Version": "2012-10-17", "Statement": []}
MANAGED_POLICIES_PER_ROLE = 10  # IAM's default quota
SESSION_DURATION_MIN, SESSION_DURATION_MAX = 3600, 43200


def path_check(path: str) -> str:
    if not PATH.match(path or ""):
        raise InvalidInput("The path must begin and end with / and hold printable ASCII characters (at most 512).")
    return path


def role_create(*, name: str, policy_document: str | dict[str, Any] | None = None, description: str = "", path: str = "/",
                trust_policy: str | dict[str, Any] | None = None, max_session_duration: int = 3600) -> Role:
    if not isinstance(name, str) or not ROLE_NAME.match(name):
        raise ValidationFailed("Role name must be 1-64 characters of letters, digits and +=,.@_-.", details={"field": "name"})
    document = policy_parse(policy_document) if policy_document is not None else dict(EMPTY_POLICY)
    trust = policy_parse(trust_policy, resource_policy=True) if trust_policy is not None else default_trust_policy()
    if not SESSION_DURATION_MIN <= max_session_duration <= SESSION_DURATION_MAX:
        raise InvalidInput(f"MaxSessionDuration must be between {SESSION_DURATION_MIN} and {SESSION_DURATION_MAX} seconds.")
    try:
        with transaction.atomic():
            return Role.objects.create(name=name, policy_document=document, description=description, path=path_check(path),
                                       trust_policy=trust, max_session_duration=max_session_duration)
    except IntegrityError:
        raise Conflict(f"Role {name!r} already exists.") from None


def role_update(*, role: Role, policy_document: str | dict[str, Any] | None = None, description: str | None = None) -> Role:
    if policy_document is not None:
        role.policy_document = policy_parse(policy_document)
    if description is not None:
        role.description = description
    role.save()
    return role


def role_trust_update(*, role: Role, trust_policy: str | dict[str, Any]) -> Role:
    role.trust_policy = policy_parse(trust_policy, resource_policy=True)
    role.save(update_fields=["trust_policy", "updated_at"])
    return role


def role_resolve(name_or_arn: str) -> Role:
    """Return the role named by its name or ARN (``arn:aws:iam::ACCOUNT:role/NAME``)."""
    name = name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
    try:
        return Role.objects.get(name=name)
    except Role.DoesNotExist:
        raise ValidationFailed(f"Role {name_or_arn!r} does not exist; create it first.", details={"field": "role"}) from None


def role_delete(*, role: Role, require_no_policies: bool = False) -> None:
    """Delete a role no function currently uses (older revisions keep running without it).

    ``require_no_policies`` (the IAM API's rule): refuse while inline or attached policies remain.
    """
    from django.db.models import F

    users = list(role.revisions.filter(function__latest=F("pk")).values_list("function__name", flat=True)[:5])
    if users:
        raise Conflict(f"Role {role.name} is used by function(s) {', '.join(users)}; change their role first.", details={"functions": users})
    if require_no_policies and (role.inline_policies.exists() or role.attached_policies.exists()):
        raise DeleteConflict("Cannot delete entity, must delete policies first.")
    role.delete()


def role_policy_put(*, role: Role, name: str, document: str | dict[str, Any]) -> RolePolicy:
    if not POLICY_NAME.match(name or ""):
        raise InvalidInput("The policy name must be 1-128 characters of letters, digits and +=,.@_-.")
    parsed = policy_parse(document)
    policy, _ = RolePolicy.objects.update_or_create(role=role, name=name, defaults={"document": parsed})
    return policy


def role_policy_delete(*, role: Role, name: str) -> None:
    deleted, _ = RolePolicy.objects.filter(role=role, name=name).delete()
    if not deleted:
        raise NoSuchEntity(f"The role policy with name {name} cannot be found.")


def role_policy_attach(*, role: Role, policy: ManagedPolicy) -> None:
    if not role.attached_policies.filter(pk=policy.pk).exists() and role.attached_policies.count() >= MANAGED_POLICIES_PER_ROLE:
        raise LimitExceeded(f"Cannot exceed quota for PoliciesPerRole: {MANAGED_POLICIES_PER_ROLE}")
    role.attached_policies.add(policy)


def role_policy_detach(*, role: Role, policy: ManagedPolicy) -> None:
    if not role.attached_policies.filter(pk=policy.pk).exists():
        raise NoSuchEntity(f"Policy {policy.name} was not found.")
    role.attached_policies.remove(policy)


__all__ = ["EntityAlreadyExists", "role_create", "role_update", "role_trust_update", "role_resolve", "role_delete", "role_policy_put",
           "role_policy_delete", "role_policy_attach", "role_policy_detach", "path_check"]
