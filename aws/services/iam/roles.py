"""IAM role operations: create, read, list, delete, trust policy, inline and attached policies."""

from __future__ import annotations

from typing import Any

from aws.context import AwsContext
from aws.registry import operation
from aws.services.iam.common import attached_policies_out, inline_policy_names, inline_policy_out, page, role_out
from core.arns import role_arn
from iam import services
from iam.models import Role
from iam.selectors import managed_policy_by_arn, role_by_name


def _role(ctx: AwsContext, action: str, name: str) -> Role:
    ctx.authorize(f"iam:{action}", role_arn(name))
    return role_by_name(name)


@operation("iam", "CreateRole")
def create_role(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    path = params.get("Path", "/")
    ctx.authorize("iam:CreateRole", role_arn(params["RoleName"], path))
    role = services.role_create(name=params["RoleName"], path=path, trust_policy=params["AssumeRolePolicyDocument"], description=params.get("Description", ""),
                                max_session_duration=int(params.get("MaxSessionDuration") or 3600))
    return {"Role": role_out(role)}


@operation("iam", "GetRole")
def get_role(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"Role": role_out(_role(ctx, "GetRole", params["RoleName"]))}


@operation("iam", "ListRoles")
def list_roles(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:ListRoles", "*")
    prefix = params.get("PathPrefix", "/")
    roles = [r for r in Role.objects.order_by("name") if r.path.startswith(prefix)]
    chosen, extra = page(roles, params, lambda r: r.name)
    return {"Roles": [role_out(r) for r in chosen], **extra}


@operation("iam", "DeleteRole")
def delete_role(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.role_delete(role=_role(ctx, "DeleteRole", params["RoleName"]), require_no_policies=True)
    return {}


@operation("iam", "UpdateAssumeRolePolicy")
def update_assume_role_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.role_trust_update(role=_role(ctx, "UpdateAssumeRolePolicy", params["RoleName"]), trust_policy=params["PolicyDocument"])
    return {}


@operation("iam", "PutRolePolicy")
def put_role_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.role_policy_put(role=_role(ctx, "PutRolePolicy", params["RoleName"]), name=params["PolicyName"], document=params["PolicyDocument"])
    return {}


@operation("iam", "GetRolePolicy")
def get_role_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return inline_policy_out(_role(ctx, "GetRolePolicy", params["RoleName"]), params["PolicyName"], "Role")


@operation("iam", "ListRolePolicies")
def list_role_policies(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return inline_policy_names(_role(ctx, "ListRolePolicies", params["RoleName"]), params)


@operation("iam", "DeleteRolePolicy")
def delete_role_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.role_policy_delete(role=_role(ctx, "DeleteRolePolicy", params["RoleName"]), name=params["PolicyName"])
    return {}


@operation("iam", "AttachRolePolicy")
def attach_role_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.role_policy_attach(role=_role(ctx, "AttachRolePolicy", params["RoleName"]), policy=managed_policy_by_arn(params["PolicyArn"]))
    return {}


@operation("iam", "DetachRolePolicy")
def detach_role_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.role_policy_detach(role=_role(ctx, "DetachRolePolicy", params["RoleName"]), policy=managed_policy_by_arn(params["PolicyArn"]))
    return {}


@operation("iam", "ListAttachedRolePolicies")
def list_attached_role_policies(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return attached_policies_out(_role(ctx, "ListAttachedRolePolicies", params["RoleName"]), params)
