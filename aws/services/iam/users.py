"""IAM user and access-key operations. Without ``UserName`` a key operation concerns the caller itself."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from aws.context import AwsContext
from aws.errors import AwsError
from aws.registry import operation
from aws.services.iam.common import attached_policies_out, inline_policy_names, inline_policy_out, page, user_out
from core.arns import root_arn, user_arn
from iam import credentials, users
from iam.errors import NoSuchEntity
from iam.models import AccessKey, IamUser
from iam.selectors import access_key_of_user, managed_policy_by_arn, user_by_name


def _user(ctx: AwsContext, action: str, name: str) -> IamUser:
    ctx.authorize(f"iam:{action}", user_arn(name))
    return user_by_name(name)


def _key_owner(ctx: AwsContext, action: str, params: dict[str, Any]) -> IamUser | None:
    """The user a key operation concerns (``None``: the root's own keys)."""
    if params.get("UserName"):
        return _user(ctx, action, params["UserName"])
    principal = ctx.principal
    if principal.is_root:
        return None
    if principal.kind != "user":
        raise AwsError("ValidationError", "Must specify userName when calling with non-User credentials")
    return _user(ctx, action, principal.name)


@operation("iam", "CreateUser")
def create_user(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:CreateUser", user_arn(params["UserName"], params.get("Path", "/")))
    return {"User": user_out(users.user_create(name=params["UserName"], path=params.get("Path", "/")))}


@operation("iam", "GetUser")
def get_user(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("UserName"):
        return {"User": user_out(_user(ctx, "GetUser", params["UserName"]))}
    principal = ctx.principal
    if principal.is_root:
        return {"User": {"UserId": principal.account, "Arn": root_arn(), "CreateDate": timezone.now()}}
    if principal.kind != "user":
        raise AwsError("ValidationError", "Must specify userName when calling with non-User credentials")
    return {"User": user_out(_user(ctx, "GetUser", principal.name))}


@operation("iam", "ListUsers")
def list_users(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:ListUsers", "*")
    prefix = params.get("PathPrefix", "/")
    chosen, extra = page([u for u in IamUser.objects.order_by("name") if u.path.startswith(prefix)], params, lambda u: u.name)
    return {"Users": [user_out(u) for u in chosen], **extra}


@operation("iam", "DeleteUser")
def delete_user(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    users.user_delete(user=_user(ctx, "DeleteUser", params["UserName"]))
    return {}


def _key_out(key: AccessKey, user: IamUser | None) -> dict[str, Any]:
    data: dict[str, Any] = {"AccessKeyId": key.access_key_id, "Status": key.status, "CreateDate": key.created_at}
    if user is not None:
        data["UserName"] = user.name
    return data


@operation("iam", "CreateAccessKey")
def create_access_key(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    owner = _key_owner(ctx, "CreateAccessKey", params)
    issued = credentials.access_key_create(user=owner, root=owner is None)
    return {"AccessKey": {**_key_out(issued.key, owner), "SecretAccessKey": issued.secret}}


@operation("iam", "ListAccessKeys")
def list_access_keys(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    owner = _key_owner(ctx, "ListAccessKeys", params)
    keys = AccessKey.objects.filter(user=owner, role__isnull=True) if owner is not None else AccessKey.objects.filter(is_root=True)
    chosen, extra = page(list(keys.order_by("created_at", "id")), params, lambda k: k.access_key_id)
    return {"AccessKeyMetadata": [_key_out(k, owner) for k in chosen], **extra}


def _owned_key(owner: IamUser | None, access_key_id: str) -> AccessKey:
    if owner is not None:
        return access_key_of_user(user=owner, access_key_id=access_key_id)
    key = AccessKey.objects.filter(is_root=True, access_key_id=access_key_id).first()
    if key is None:
        raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
    return key


@operation("iam", "DeleteAccessKey")
def delete_access_key(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    credentials.access_key_delete(key=_owned_key(_key_owner(ctx, "DeleteAccessKey", params), params["AccessKeyId"]))
    return {}


@operation("iam", "UpdateAccessKey")
def update_access_key(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    key = _owned_key(_key_owner(ctx, "UpdateAccessKey", params), params["AccessKeyId"])
    credentials.access_key_set_status(key=key, status=params["Status"])
    return {}


@operation("iam", "GetAccessKeyLastUsed")
def get_access_key_last_used(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    """When and for which service a long-term key last authenticated a request (``N/A`` if never)."""
    key = AccessKey.objects.select_related("user").filter(access_key_id=params["AccessKeyId"], role__isnull=True, environment_id="").first()
    if key is None or (key.user is None and not key.is_root):
        raise NoSuchEntity(f"The Access Key with id {params['AccessKeyId']} cannot be found.")
    ctx.authorize("iam:GetAccessKeyLastUsed", user_arn(key.user.name, key.user.path) if key.user else root_arn())
    used: dict[str, Any] = {"ServiceName": "N/A", "Region": "N/A"}
    if key.last_used_at is not None:
        used = {"LastUsedDate": key.last_used_at, "ServiceName": key.last_used_service, "Region": settings.KILN_REGION}
    return {"UserName": key.user.name if key.user else "root", "AccessKeyLastUsed": used}


@operation("iam", "PutUserPolicy")
def put_user_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    users.user_policy_put(user=_user(ctx, "PutUserPolicy", params["UserName"]), name=params["PolicyName"], document=params["PolicyDocument"])
    return {}


@operation("iam", "GetUserPolicy")
def get_user_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return inline_policy_out(_user(ctx, "GetUserPolicy", params["UserName"]), params["PolicyName"], "User")


@operation("iam", "ListUserPolicies")
def list_user_policies(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return inline_policy_names(_user(ctx, "ListUserPolicies", params["UserName"]), params)


@operation("iam", "DeleteUserPolicy")
def delete_user_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    users.user_policy_delete(user=_user(ctx, "DeleteUserPolicy", params["UserName"]), name=params["PolicyName"])
    return {}


@operation("iam", "AttachUserPolicy")
def attach_user_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    users.user_policy_attach(user=_user(ctx, "AttachUserPolicy", params["UserName"]), policy=managed_policy_by_arn(params["PolicyArn"]))
    return {}


@operation("iam", "DetachUserPolicy")
def detach_user_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    users.user_policy_detach(user=_user(ctx, "DetachUserPolicy", params["UserName"]), policy=managed_policy_by_arn(params["PolicyArn"]))
    return {}


@operation("iam", "ListAttachedUserPolicies")
def list_attached_user_policies(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return attached_policies_out(_user(ctx, "ListAttachedUserPolicies", params["UserName"]), params)
