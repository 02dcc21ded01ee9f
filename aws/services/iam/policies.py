"""IAM customer managed policies and the policy simulator (SimulatePrincipalPolicy)."""

from __future__ import annotations

from typing import Any

from aws.context import AwsContext
from aws.registry import operation
from aws.services.iam.common import document_out, page, policy_out
from core.arns import policy_arn
from iam import users
from iam.errors import NoSuchEntity
from iam.evaluation import NamedPolicy, policy_evaluate
from iam.models import ManagedPolicy
from iam.policy import policy_parse
from iam.selectors import managed_policy_by_arn, principal_context, principal_for_arn, principal_policies


@operation("iam", "CreatePolicy")
def create_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    path = params.get("Path", "/")
    ctx.authorize("iam:CreatePolicy", policy_arn(params["PolicyName"], path))
    policy = users.managed_policy_create(name=params["PolicyName"], document=params["PolicyDocument"], path=path, description=params.get("Description", ""))
    return {"Policy": policy_out(policy)}


@operation("iam", "GetPolicy")
def get_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:GetPolicy", params["PolicyArn"])
    return {"Policy": policy_out(managed_policy_by_arn(params["PolicyArn"]))}


@operation("iam", "GetPolicyVersion")
def get_policy_version(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:GetPolicyVersion", params["PolicyArn"])
    policy = managed_policy_by_arn(params["PolicyArn"])
    if params["VersionId"] != "v1":
        raise NoSuchEntity(f"Policy {params['PolicyArn']} version {params['VersionId']} does not exist or is not attachable.")
    return {"PolicyVersion": {"Document": document_out(policy.document), "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": policy.created_at}}


@operation("iam", "DeletePolicy")
def delete_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:DeletePolicy", params["PolicyArn"])
    users.managed_policy_delete(policy=managed_policy_by_arn(params["PolicyArn"]))
    return {}


@operation("iam", "ListPolicies")
def list_policies(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:ListPolicies", "*")
    if params.get("Scope") == "AWS":
        return {"Policies": [], "IsTruncated": False}
    chosen, extra = page(list(ManagedPolicy.objects.order_by("name")), params, lambda p: p.name)
    return {"Policies": [policy_out(p) for p in chosen], **extra}


def _context_entries(entries: list[dict[str, Any]]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for entry in entries or []:
        values = entry.get("ContextKeyValues", [])
        kind = entry.get("ContextKeyType", "string")
        context[entry["ContextKeyName"]] = values if kind.endswith("List") else (values[0] if values else None)
    return context


@operation("iam", "SimulatePrincipalPolicy")
def simulate_principal_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    source = params["PolicySourceArn"]
    ctx.authorize("iam:SimulatePrincipalPolicy", source)
    principal = principal_for_arn(source)
    policies = principal_policies(principal) + [NamedPolicy(document=_parse(doc), name=f"PolicyInputList.{i + 1}") for i, doc in enumerate(params.get("PolicyInputList", []))]
    context = {**principal_context(principal), **ctx.request_context(), **_context_entries(params.get("ContextEntries", []))}
    results = []
    for action in params["ActionNames"]:
        for resource in params.get("ResourceArns") or ["*"]:
            decision = policy_evaluate(policies, action=action, resource=resource, context=context)
            matched = [{"SourcePolicyId": m.policy, "SourcePolicyType": "IAM Policy"} for m in ([decision.statement] if decision.statement else [])]
            results.append({"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": decision.decision, "MatchedStatements": matched,
                            "MissingContextValues": []})
    chosen, extra = page(results, params, lambda r: f"{r['EvalActionName']}|{r['EvalResourceName']}")
    return {"EvaluationResults": chosen, **extra}


def _parse(document: str) -> dict[str, Any]:
    return policy_parse(document)
