"""Writes to IAM users and customer managed policies.

An IAM user is a name that access keys and policies belong to; it is not a console login. Deleting a user
is refused while it still has access keys or policies, as IAM does (``DeleteConflict``).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction

from iam.errors import DeleteConflict, EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from iam.models import IamUser, ManagedPolicy, UserPolicy, unique_id
from iam.policy import policy_parse
from iam.services import MANAGED_POLICIES_PER_ROLE, POLICY_NAME, path_check

USER_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


def user_create(*, name: str, path: str = "/") -> IamUser:
    if not USER_NAME.match(name or ""):
        raise InvalidInput("The user name must be 1-64 characters of letters, digits and +=,.@_-.")
    try:
        with transaction.atomic():
            return IamUser.objects.create(name=name, path=path_check(path), user_id=unique_id("AIDA"))
    except IntegrityError:
        raise EntityAlreadyExists(f"User with name {name} already exists.") from None


def user_delete(*, user: IamUser) -> None:
    if user.access_keys.exists() or user.inline_policies.exists() or user.attached_policies.exists():
        raise DeleteConflict("Cannot delete entity, must delete access keys and policies first.")
    user.delete()


def user_policy_put(*, user: IamUser, name: str, document: str | dict[str, Any]) -> UserPolicy:
    if not POLICY_NAME.match(name or ""):
        raise InvalidInput("The policy name must be 1-128 characters of letters, digits and +=,.@_-.")
    parsed = policy_parse(document)
    policy, _ = UserPolicy.objects.update_or_create(user=user, name=name, defaults={"document": parsed})
    return policy


def user_policy_delete(*, user: IamUser, name: str) -> None:
    deleted, _ = UserPolicy.objects.filter(user=user, name=name).delete()
    if not deleted:
        raise NoSuchEntity(f"The user policy with name {name} cannot be found.")


def user_policy_attach(*, user: IamUser, policy: ManagedPolicy) -> None:
    if not user.attached_policies.filter(pk=policy.pk).exists() and user.attached_policies.count() >= MANAGED_POLICIES_PER_ROLE:
        raise LimitExceeded(f"Cannot exceed quota for PoliciesPerUser: {MANAGED_POLICIES_PER_ROLE}")
    user.attached_policies.add(policy)


def user_policy_detach(*, user: IamUser, policy: ManagedPolicy) -> None:
    if not user.attached_policies.filter(pk=policy.pk).exists():
        raise NoSuchEntity(f"Policy {policy.name} was not found.")
    user.attached_policies.remove(policy)


def managed_policy_create(*, name: str, document: str | dict[str, Any], path: str = "/", description: str = "") -> ManagedPolicy:
    if not POLICY_NAME.match(name or ""):
        raise InvalidInput("The policy name must be 1-128 characters of letters, digits and +=,.@_-.")
    parsed = policy_parse(document)
    try:
        with transaction.atomic():
            return ManagedPolicy.objects.create(name=name, path=path_check(path), policy_id=unique_id("ANPA"), document=parsed, description=description)
    except IntegrityError:
        raise EntityAlreadyExists(f"A policy called {name} already exists. Duplicate names are not allowed.") from None


def managed_policy_delete(*, policy: ManagedPolicy) -> None:
    if policy.roles.exists() or policy.users.exists():
        raise DeleteConflict("Cannot delete a policy attached to entities.")
    policy.delete()
