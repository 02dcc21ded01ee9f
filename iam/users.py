"""Writes to IAM users and customer managed policies, and a console login's own IAM user and access keys.

An IAM user is a name that access keys and policies belong to. Deleting a user is refused while it still
has access keys or policies, as IAM does (``DeleteConflict``).

A console login gets an IAM user of its own the first time it asks for an access key (``console_user_link``):
path ``/console/``, named after the login (or ``console-<login>`` when that name is taken). Its permissions
are its IAM policies; the inline policy ``KilnConsolePersona`` is kept equal to the login's personas
(``iam/personas.py``: everything for an administrator or superuser, the developer's or viewer's set, none for
an outsider), so the AWS endpoint allows a login what the console and the REST API allow it; other
policies can be added to it like to any IAM user. The ``console_access_key_*`` services act only on the login's own keys, two at most.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from iam.credentials import ACCESS_KEYS_PER_USER, IssuedKey, access_key_create, access_key_delete, access_key_set_status
from iam.errors import DeleteConflict, EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from iam.models import AccessKey, IamUser, ManagedPolicy, UserPolicy, unique_id
from iam.personas import persona_policy_sync
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


CONSOLE_PATH = "/console/"


def console_user_link(*, user: AbstractBaseUser) -> IamUser:
    """The login's IAM user, created (with its personas' policy) if it has none yet."""
    existing = IamUser.objects.filter(console_user=user).first()
    if existing is not None:
        return existing
    login = user.get_username()
    pk = user.pk
    candidates = [name for name in (login, f"console-{login}", f"console-user-{pk}") if USER_NAME.match(name)]
    with transaction.atomic():
        list(get_user_model().objects.select_for_update().filter(pk=pk).values_list("pk"))  # one link per login, even when two requests race
        existing = IamUser.objects.filter(console_user=user).first()
        if existing is not None:
            return existing
        name = next((n for n in candidates if not IamUser.objects.filter(name=n).exists()), None)
        if name is None:
            raise EntityAlreadyExists(f"No free IAM user name for the console login {login!r}.")
        iam_user = IamUser.objects.create(name=name, path=CONSOLE_PATH, user_id=unique_id("AIDA"), console_user=user)
        persona_policy_sync(user)
    return iam_user


def console_access_key_create(*, user: AbstractBaseUser) -> IssuedKey:
    """A new access key for the login's IAM user; its secret is in the result and nowhere else in plain text."""
    iam_user = console_user_link(user=user)
    with transaction.atomic():
        IamUser.objects.select_for_update().filter(pk=iam_user.pk).first()  # two tabs creating at once still make at most two
        if AccessKey.objects.filter(user=iam_user, role__isnull=True).count() >= ACCESS_KEYS_PER_USER:
            raise LimitExceeded(f"You already have {ACCESS_KEYS_PER_USER} access keys, the most IAM allows a user. "
                                "Delete one (deactivate it first to check nothing still uses it) before creating another.")
        return access_key_create(user=iam_user)


def _own_key(user: AbstractBaseUser, access_key_id: str) -> AccessKey:
    key = AccessKey.objects.filter(user__console_user=user, access_key_id=access_key_id, role__isnull=True).first()
    if key is None:
        raise NoSuchEntity(f"You have no access key {access_key_id}.")
    return key


def console_access_key_set_status(*, user: AbstractBaseUser, access_key_id: str, status: str) -> AccessKey:
    return access_key_set_status(key=_own_key(user, access_key_id), status=status)


def console_access_key_delete(*, user: AbstractBaseUser, access_key_id: str) -> None:
    access_key_delete(key=_own_key(user, access_key_id))
