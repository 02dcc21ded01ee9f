"""Shared pieces of the IAM adapter: rendering entities as IAM's shapes, documents, pagination."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from core.arns import policy_arn, user_arn
from iam.errors import NoSuchEntity
from iam.models import IamUser, ManagedPolicy, Role

T = TypeVar("T")
DEFAULT_MAX_ITEMS = 100


def document_out(document: Any) -> str:
    return quote(json.dumps(document, separators=(",", ":")), safe="")


def role_out(role: Role) -> dict[str, Any]:
    data: dict[str, Any] = {"Path": role.path, "RoleName": role.name, "RoleId": role.role_id, "Arn": role.arn, "CreateDate": role.created_at,
                            "AssumeRolePolicyDocument": document_out(role.trust_policy), "MaxSessionDuration": role.max_session_duration}
    if role.description:
        data["Description"] = role.description
    return data


def user_out(user: IamUser) -> dict[str, Any]:
    return {"Path": user.path, "UserName": user.name, "UserId": user.user_id, "Arn": user_arn(user.name, user.path), "CreateDate": user.created_at}


def policy_out(policy: ManagedPolicy) -> dict[str, Any]:
    data: dict[str, Any] = {"PolicyName": policy.name, "PolicyId": policy.policy_id, "Arn": policy_arn(policy.name, policy.path), "Path": policy.path,
                            "DefaultVersionId": "v1", "AttachmentCount": policy.roles.count() + policy.users.count(), "PermissionsBoundaryUsageCount": 0,
                            "IsAttachable": True, "CreateDate": policy.created_at, "UpdateDate": policy.updated_at}
    if policy.description:
        data["Description"] = policy.description
    return data


def page(items: Sequence[T], params: dict[str, Any], key: Any) -> tuple[list[T], dict[str, Any]]:
    """IAM's Marker/MaxItems paging over ``items`` sorted by ``key`` (the marker is the last key shown)."""
    marker = params.get("Marker")
    start = 0
    if marker:
        start = next((i + 1 for i, item in enumerate(items) if key(item) == marker), len(items))
    size = int(params.get("MaxItems") or DEFAULT_MAX_ITEMS)
    chosen = list(items[start:start + size])
    more = start + size < len(items)
    extra: dict[str, Any] = {"IsTruncated": more}
    if more and chosen:
        extra["Marker"] = key(chosen[-1])
    return chosen, extra


def inline_policy_out(owner: Role | IamUser, name: str, kind: str) -> dict[str, Any]:
    """GetRolePolicy / GetUserPolicy: one inline policy of a role or user, or ``NoSuchEntity``."""
    policy = owner.inline_policies.filter(name=name).first()
    if policy is None:
        raise NoSuchEntity(f"The {kind.lower()} policy with name {name} cannot be found.")
    return {f"{kind}Name": owner.name, "PolicyName": policy.name, "PolicyDocument": document_out(policy.document)}


def inline_policy_names(owner: Role | IamUser, params: dict[str, Any]) -> dict[str, Any]:
    """ListRolePolicies / ListUserPolicies: a page of the inline policies' names."""
    names, extra = page(list(owner.inline_policies.order_by("name").values_list("name", flat=True)), params, lambda n: n)
    return {"PolicyNames": names, **extra}


def attached_policies_out(owner: Role | IamUser, params: dict[str, Any]) -> dict[str, Any]:
    """ListAttachedRolePolicies / ListAttachedUserPolicies: a page of the attached managed policies."""
    chosen, extra = page(list(owner.attached_policies.order_by("name")), params, lambda p: p.name)
    return {"AttachedPolicies": [{"PolicyName": p.name, "PolicyArn": policy_arn(p.name, p.path)} for p in chosen], **extra}
