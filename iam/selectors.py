"""Reads of IAM objects by name or ARN (``NoSuchEntity`` when absent) and the policies that govern a principal.

``principal_authorize`` is the one question every AWS operation asks before it runs: may this principal do
this action on this resource in this context? The root may do everything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User

from core.arns import user_arn
from core.generations import GenerationCache
from iam.credentials import Principal
from iam.errors import InvalidInput, NoSuchEntity
from iam.evaluation import Decision, MatchedStatement, NamedPolicy, policy_evaluate, statements_of
from iam.models import AccessKey, IamUser, ManagedPolicy, Role


def role_by_name(name: str) -> Role:
    role = Role.objects.filter(name=name).first()
    if role is None:
        raise NoSuchEntity(f"The role with name {name} cannot be found.")
    return role


def role_by_arn(arn: str) -> Role:
    if not arn.startswith("arn:") or ":role/" not in arn:
        raise NoSuchEntity(f"The role with ARN {arn} cannot be found.")
    return role_by_name(arn.rsplit("/", 1)[-1])


def user_by_name(name: str) -> IamUser:
    user = IamUser.objects.filter(name=name).first()
    if user is None:
        raise NoSuchEntity(f"The user with name {name} cannot be found.")
    return user


def managed_policy_by_arn(arn: str) -> ManagedPolicy:
    name = arn.rsplit("/", 1)[-1] if arn.startswith("arn:") and ":policy/" in arn else None
    policy = ManagedPolicy.objects.filter(name=name).first() if name else None
    if policy is None:
        raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
    return policy


def access_key_of_user(*, user: IamUser, access_key_id: str) -> AccessKey:
    key = AccessKey.objects.filter(user=user, access_key_id=access_key_id, role__isnull=True).first()
    if key is None:
        raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
    return key


CONSOLE_SECRET_SHOW_SECONDS = 300  # a new key's secret can be shown (once) only this long after it was made


def console_iam_user(user: User) -> IamUser | None:
    """The console login's own IAM user, if it has one yet (``iam.users.console_user_link`` makes it)."""
    return IamUser.objects.filter(console_user=user).prefetch_related("inline_policies", "attached_policies").first()


def console_access_keys(user: User) -> list[AccessKey]:
    """The login's own long-term access keys, oldest first (never their secrets)."""
    return list(AccessKey.objects.filter(user__console_user=user, role__isnull=True).order_by("created_at", "id"))


def console_new_key_secret(user: User, access_key_id: str) -> str | None:
    """The secret of the login's key ``access_key_id`` if it was made in the last few minutes, for the one
    page that shows it (the console keeps only the id in the session, between the POST and that page)."""
    from datetime import timedelta

    from django.utils import timezone

    from iam.crypto import SecretUnreadable, secret_decrypt

    key = AccessKey.objects.filter(user__console_user=user, access_key_id=access_key_id, role__isnull=True,
                                   created_at__gte=timezone.now() - timedelta(seconds=CONSOLE_SECRET_SHOW_SECONDS)).first()
    if key is None:
        return None
    try:
        return secret_decrypt(stored=key.secret_encrypted, access_key_id=key.access_key_id)
    except SecretUnreadable:
        return None


# A principal's identity policies, per process; emptied by any write to a role, an IAM user, a policy or an
# attachment (iam/apps.py), so a changed policy decides the next request.
POLICIES: GenerationCache[tuple[NamedPolicy, ...]] = GenerationCache("iam-policies", ttl_s=30.0)


def principal_policies(principal: Principal) -> list[NamedPolicy]:
    """Every identity policy of the principal: the role's (or user's) inline and attached managed policies."""
    if principal.role_pk is not None:
        role_pk = principal.role_pk
        return list(POLICIES.get(("role", role_pk), lambda: _role_policies(role_pk)))
    if principal.user_pk is not None:
        user_pk = principal.user_pk
        return list(POLICIES.get(("user", user_pk), lambda: _user_policies(user_pk)))
    return []


def _role_policies(role_pk: int) -> tuple[NamedPolicy, ...]:
    role = Role.objects.prefetch_related("inline_policies", "attached_policies").filter(pk=role_pk).first()
    if role is None:
        return ()
    policies: list[NamedPolicy] = []
    if role.policy_document and role.policy_document.get("Statement"):
        policies.append(NamedPolicy(document=role.policy_document, name=f"{role.name} (role policy)"))
    policies += [NamedPolicy(document=p.document, name=p.name) for p in role.inline_policies.all()]
    policies += [NamedPolicy(document=p.document, name=p.name) for p in role.attached_policies.all()]
    return tuple(policies)


def _user_policies(user_pk: int) -> tuple[NamedPolicy, ...]:
    user = IamUser.objects.prefetch_related("inline_policies", "attached_policies").filter(pk=user_pk).first()
    if user is None:
        return ()
    return tuple([NamedPolicy(document=p.document, name=p.name) for p in user.inline_policies.all()]
                 + [NamedPolicy(document=p.document, name=p.name) for p in user.attached_policies.all()])


def principal_context(principal: Principal) -> dict[str, Any]:
    """The global condition keys IAM sets from the principal (``aws:username``, ``aws:PrincipalArn``, ...)."""
    context: dict[str, Any] = {"aws:PrincipalArn": principal.arn, "aws:PrincipalAccount": principal.account, "aws:userid": principal.user_id,
                               "aws:PrincipalType": {"root": "Account", "user": "User", "assumed-role": "AssumedRole"}[principal.kind]}
    if principal.kind == "user":
        context["aws:username"] = principal.name
    if principal.kind == "assumed-role" and ":assumed-role/" in principal.arn:  # a session (the simulator passes the role's own ARN)
        context["aws:PrincipalArn"] = principal.arn.replace(":sts:", ":iam:").replace(":assumed-role/", ":role/").rsplit("/", 1)[0]
    return context


def principal_authorize(principal: Principal, *, action: str, resource: str, context: Mapping[str, Any] | None = None,
                        policies: list[NamedPolicy] | None = None) -> Decision:
    """The decision for ``principal`` doing ``action`` on ``resource``; pass ``policies`` to reuse them across calls."""
    if principal.is_root:
        return Decision("allowed", MatchedStatement(policy="root", index=0, sid="", effect="Allow"))
    merged = {**principal_context(principal), **(context or {})}
    return policy_evaluate(policies if policies is not None else principal_policies(principal), action=action, resource=resource, context=merged)


def principal_for_arn(arn: str) -> Principal:
    """The principal a user or role ARN names (for the policy simulator)."""
    from django.conf import settings

    account = settings.KILN_ACCOUNT_ID
    if ":user/" in arn:
        user = user_by_name(arn.rsplit("/", 1)[-1])
        return Principal(kind="user", arn=user_arn(user.name, user.path), user_id=user.user_id, name=user.name, access_key_id="", account=account, user_pk=user.pk)
    if ":role/" in arn:
        role = role_by_arn(arn)
        return Principal(kind="assumed-role", arn=role.arn, user_id=role.role_id, name=role.name, access_key_id="", account=account, role_pk=role.pk)
    raise NoSuchEntity(f"The principal {arn} cannot be found.")


ACTION_NAME = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$")


@dataclass(frozen=True)
class Simulation:
    """A simulated request: the decision, the statement that decided it (``None`` for an implicit deny) and
    every identity policy that was evaluated (the console's policy simulator shows all three)."""

    principal: Principal
    action: str
    resource: str
    decision: Decision
    policies: list[NamedPolicy]

    @property
    def deciding_statement(self) -> Mapping[str, Any] | None:
        found = self.decision.statement
        if found is None:
            return None
        policy = next((p for p in self.policies if p.name == found.policy), None)
        statements = statements_of(policy.document) if policy is not None else []
        return statements[found.index] if found.index < len(statements) else None


def simulation_principals() -> list[tuple[str, str]]:
    """(ARN, label) of every role and IAM user a simulation can run as, roles first."""
    roles = [(r.arn, f"Role {r.name}") for r in Role.objects.order_by("name")]
    users = [(user_arn(u.name, u.path), f"User {u.name}") for u in IamUser.objects.order_by("name")]
    return roles + users


def policy_simulate(*, principal_arn: str, action: str, resource: str = "*", context: Mapping[str, Any] | None = None) -> Simulation:
    """What IAM decides for the role or user ``principal_arn`` doing ``action`` on ``resource``, with the
    principal's own condition keys (``aws:username``, ...) and ``context`` added, as a signed request is decided."""
    if not ACTION_NAME.match(action or ""):
        raise InvalidInput(f"{action!r} is not an action: write service:Action, e.g. s3:GetObject.")
    if not resource:
        raise InvalidInput("A resource is an ARN, or * for any.")
    principal = principal_for_arn(principal_arn)
    policies = principal_policies(principal)
    merged = {**principal_context(principal), **(context or {})}
    return Simulation(principal=principal, action=action, resource=resource, policies=policies,
                      decision=policy_evaluate(policies, action=action, resource=resource, context=merged))
