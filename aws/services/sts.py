"""STS adapter: GetCallerIdentity and AssumeRole (trust policy checked) over ``iam``'s services.

AssumeRole follows AWS: the role's trust policy must allow ``sts:AssumeRole`` for the caller; when it
trusts the caller only through its account (``arn:aws:iam::ACCOUNT:root``), the caller's own identity
policies must allow ``sts:AssumeRole`` on the role too. The root user cannot assume roles.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpResponse

from aws.context import AwsContext
from aws.dispatch import query_dispatch
from aws.errors import AwsError
from aws.registry import operation
from core.arns import assumed_role_arn, root_arn
from iam.credentials import SESSION_MIN_SECONDS, session_create
from iam.errors import NoSuchEntity
from iam.evaluation import policy_evaluate
from iam.selectors import role_by_arn

SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
DOMAIN_CODES = {"*NotFound": ("NoSuchEntity", 404), "*Invalid": ("ValidationError", 400)}


def dispatch(ctx: AwsContext, *, verification: object, body: bytes | None) -> HttpResponse:
    return query_dispatch(ctx, body=body or b"")


@operation("sts", "GetCallerIdentity")
def get_caller_identity(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    principal = ctx.principal
    return {"UserId": principal.user_id, "Account": principal.account, "Arn": principal.arn}


def _caller_identifiers(ctx: AwsContext) -> list[str]:
    principal = ctx.principal
    ids = [principal.arn]
    if principal.kind == "assumed-role":
        ids.append(principal.arn.replace(":sts:", ":iam:").replace(":assumed-role/", ":role/").rsplit("/", 1)[0])
    return ids


@operation("sts", "AssumeRole")
def assume_role(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    role_arn_text, session_name = params["RoleArn"], params["RoleSessionName"]
    if not SESSION_NAME.match(session_name):
        raise AwsError("ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
    if params.get("Policy") or params.get("PolicyArns"):
        raise AwsError("NotImplemented", "Kiln does not support session policies in AssumeRole yet.", status=501)
    denied = AwsError("AccessDenied", f"User: {ctx.principal.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn_text}", status=403)
    if ctx.principal.is_root:
        raise AwsError("AccessDenied", "Roles may not be assumed by root accounts.", status=403)
    try:
        role = role_by_arn(role_arn_text)
    except NoSuchEntity:
        raise denied from None
    caller = _caller_identifiers(ctx)
    account = [root_arn(), ctx.principal.account]
    trust = role.trust_policy
    if not policy_evaluate([trust], action="sts:AssumeRole", resource=role.arn, context=ctx.request_context(), principal={"AWS": caller + account}).allowed:
        raise denied
    named = policy_evaluate([trust], action="sts:AssumeRole", resource=role.arn, context=ctx.request_context(), principal={"AWS": caller}).allowed
    if not named and not ctx.decide("sts:AssumeRole", role.arn).allowed:
        raise denied
    duration = int(params.get("DurationSeconds") or 3600)
    if duration < SESSION_MIN_SECONDS:
        raise AwsError("ValidationError", f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to {SESSION_MIN_SECONDS}")
    if duration > role.max_session_duration:
        raise AwsError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    issued = session_create(role=role, session_name=session_name, duration_seconds=duration)
    return {
        "Credentials": {"AccessKeyId": issued.key.access_key_id, "SecretAccessKey": issued.secret, "SessionToken": issued.session_token, "Expiration": issued.key.expires_at},
        "AssumedRoleUser": {"AssumedRoleId": f"{role.role_id}:{session_name}", "Arn": assumed_role_arn(role.name, session_name)},
    }
