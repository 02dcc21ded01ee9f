"""Lambda's account settings, reserved concurrency, asynchronous invocation config and resource policies."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings as django_settings
from django.db.models import Sum

from aws.context import AwsContext
from aws.errors import AwsError
from aws.registry import operation
from aws.services.lambda_.common import authorized, lambda_time, unqualified_function
from core.errors import NotFound
from functions import limits
from functions.models import Function, ProvisionedConcurrencyConfig
from functions.services import function_concurrency_put, function_event_invoke_config_delete, function_event_invoke_config_put
from functions.versions import (
    LATEST,
    function_for,
    function_policy,
    name_split,
    permission_add,
    permission_remove,
    provisioned_get,
    provisioned_put,
    qualified_resolve,
)
from invoker.selectors import provisioned_ready


@operation("lambda", "GetAccountSettings")
def get_account_settings(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("lambda:GetAccountSettings", "*")
    code_size = Function.objects.aggregate(n=Sum("latest__code_size"))["n"] or 0
    reserved = Function.objects.filter(reserved_concurrency__isnull=False).aggregate(n=Sum("reserved_concurrency"))["n"] or 0
    limit = django_settings.KILN_ACCOUNT_CONCURRENCY
    return {
        "AccountLimit": {"TotalCodeSize": 80 * 1024 ** 3, "CodeSizeUnzipped": limits.UNZIPPED_MAX_BYTES, "CodeSizeZipped": limits.ZIP_MAX_BYTES,
                         "ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": limit - reserved},
        "AccountUsage": {"TotalCodeSize": code_size, "FunctionCount": Function.objects.count()},
    }


@operation("lambda", "PutFunctionConcurrency")
def put_function_concurrency(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "PutFunctionConcurrency", params["FunctionName"])
    function = unqualified_function(params["FunctionName"], "Reserved concurrency")
    reserved = params["ReservedConcurrentExecutions"]
    limit = django_settings.KILN_ACCOUNT_CONCURRENCY
    others = Function.objects.exclude(pk=function.pk).filter(reserved_concurrency__isnull=False).aggregate(n=Sum("reserved_concurrency"))["n"] or 0
    if reserved < 0 or others + reserved > limit:
        raise AwsError("InvalidParameterValueException",
                       f"Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [0]: "
                       f"{reserved} requested, {limit - others} unreserved.")
    function = function_concurrency_put(function=function, changes={"reserved": reserved, "provisioned": min(function.provisioned_concurrency, reserved)})
    return {"ReservedConcurrentExecutions": function.reserved_concurrency}


@operation("lambda", "GetFunctionConcurrency")
def get_function_concurrency(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "GetFunctionConcurrency", params["FunctionName"])
    function = unqualified_function(params["FunctionName"], "Reserved concurrency")
    return {} if function.reserved_concurrency is None else {"ReservedConcurrentExecutions": function.reserved_concurrency}


@operation("lambda", "DeleteFunctionConcurrency")
def delete_function_concurrency(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "DeleteFunctionConcurrency", params["FunctionName"])
    function = unqualified_function(params["FunctionName"], "Reserved concurrency")
    function_concurrency_put(function=function, changes={"reserved": None})
    return {}


# -- asynchronous invocation config ----------------------------------------------------------------
def _event_config_function(params: dict[str, Any]) -> Function:
    name, qualifier = name_split(params["FunctionName"], params.get("Qualifier"))
    if qualifier and qualifier != LATEST:
        raise AwsError("InvalidParameterValueException", "Kiln keeps one asynchronous invocation config per function, for $LATEST: leave out the qualifier.")
    return function_for(name)


def _event_config(function: Function) -> dict[str, Any]:
    if function.async_config_modified is None:
        raise NotFound(f"The function {function.arn} doesn't have an EventInvokeConfig")
    destinations: dict[str, Any] = {}
    if function.async_on_success:
        destinations["OnSuccess"] = {"Destination": function.async_on_success}
    if function.async_on_failure:
        destinations["OnFailure"] = {"Destination": function.async_on_failure}
    return {"LastModified": function.async_config_modified, "FunctionArn": f"{function.arn}:{LATEST}",
            "MaximumRetryAttempts": function.async_max_retries, "MaximumEventAgeInSeconds": function.async_max_event_age_s,
            "DestinationConfig": destinations}


def _destination(config: dict[str, Any] | None, which: str) -> str | None:
    if config is None or which not in config:
        return None
    return (config[which] or {}).get("Destination") or ""


def _event_config_write(ctx: AwsContext, params: dict[str, Any], *, replace: bool) -> dict[str, Any]:
    authorized(ctx, "UpdateFunctionEventInvokeConfig" if not replace else "PutFunctionEventInvokeConfig", params["FunctionName"], params.get("Qualifier"))
    function = _event_config_function(params)
    changes: dict[str, Any] = {}
    retries, age = params.get("MaximumRetryAttempts"), params.get("MaximumEventAgeInSeconds")
    if replace:
        retries = limits.ASYNC_RETRIES_MAX if retries is None else retries
        age = limits.EVENT_AGE_MAX_S if age is None else age
    if retries is not None:
        if not 0 <= retries <= limits.ASYNC_RETRIES_MAX:
            raise AwsError("InvalidParameterValueException", f"1 validation error detected: Value '{retries}' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value between 0 and {limits.ASYNC_RETRIES_MAX}")
        changes["maximum_retry_attempts"] = retries
    if age is not None:
        if not limits.EVENT_AGE_MIN_S <= age <= limits.EVENT_AGE_MAX_S:
            raise AwsError("InvalidParameterValueException", f"1 validation error detected: Value '{age}' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value between {limits.EVENT_AGE_MIN_S} and {limits.EVENT_AGE_MAX_S}")
        changes["maximum_event_age_seconds"] = age
    config = params.get("DestinationConfig")
    for which, key in (("OnSuccess", "on_success"), ("OnFailure", "on_failure")):
        target = _destination(config, which)
        if target is not None or replace:
            changes[key] = target or ""
    return _event_config(function_event_invoke_config_put(function=function, changes=changes))


@operation("lambda", "PutFunctionEventInvokeConfig")
def put_function_event_invoke_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return _event_config_write(ctx, params, replace=True)


@operation("lambda", "UpdateFunctionEventInvokeConfig")
def update_function_event_invoke_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return _event_config_write(ctx, params, replace=False)


@operation("lambda", "GetFunctionEventInvokeConfig")
def get_function_event_invoke_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "GetFunctionEventInvokeConfig", params["FunctionName"], params.get("Qualifier"))
    return _event_config(_event_config_function(params))


@operation("lambda", "ListFunctionEventInvokeConfigs")
def list_function_event_invoke_configs(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "ListFunctionEventInvokeConfigs", params["FunctionName"])
    function = _event_config_function(params)
    return {"FunctionEventInvokeConfigs": [_event_config(function)] if function.async_config_modified else []}


@operation("lambda", "DeleteFunctionEventInvokeConfig")
def delete_function_event_invoke_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "DeleteFunctionEventInvokeConfig", params["FunctionName"], params.get("Qualifier"))
    function = _event_config_function(params)
    _event_config(function)  # 404 when there is none
    function_event_invoke_config_delete(function=function)
    return {}


# -- resource-based policy -------------------------------------------------------------------------
@operation("lambda", "AddPermission")
def add_permission(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "AddPermission", params["FunctionName"], params.get("Qualifier"))
    name, qualifier = name_split(params["FunctionName"], params.get("Qualifier"))
    statement = permission_add(function=function_for(name), statement_id=params["StatementId"], action=params["Action"], principal=params["Principal"],
                               qualifier=qualifier, source_arn=params.get("SourceArn"), source_account=params.get("SourceAccount"),
                               url_auth_type=params.get("FunctionUrlAuthType"), revision_id=params.get("RevisionId"))
    return {"Statement": json.dumps(statement)}


@operation("lambda", "RemovePermission")
def remove_permission(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "RemovePermission", params["FunctionName"], params.get("Qualifier"))
    name, _ = name_split(params["FunctionName"], params.get("Qualifier"))
    permission_remove(function=function_for(name), statement_id=params["StatementId"])
    return {}


@operation("lambda", "GetPolicy")
def get_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "GetPolicy", params["FunctionName"], params.get("Qualifier"))
    name, _ = name_split(params["FunctionName"], params.get("Qualifier"))
    function = function_for(name)
    if not function.policy_statements:
        raise NotFound("The resource you requested does not exist.")
    assert function.latest is not None
    return {"Policy": json.dumps(function_policy(function)), "RevisionId": str(function.latest.revision_id)}




# -- provisioned concurrency (on a version or an alias) ---------------------------------------------
def _provisioned_out(config: ProvisionedConcurrencyConfig, *, with_arn: bool = True) -> dict[str, Any]:
    resolved = qualified_resolve(config.function.name, config.qualifier)
    if resolved.alias is not None and resolved.version != resolved.alias.function_version:  # an alias provisions its primary version
        resolved = qualified_resolve(config.function.name, resolved.alias.function_version)
    ready = provisioned_ready(str(resolved.revision.revision_id), resolved.version)
    allocated = min(ready, config.requested)
    out: dict[str, Any] = {"FunctionArn": f"{config.function.arn}:{config.qualifier}", "RequestedProvisionedConcurrentExecutions": config.requested,
                           "AvailableProvisionedConcurrentExecutions": allocated, "AllocatedProvisionedConcurrentExecutions": allocated,
                           "Status": "READY" if allocated >= config.requested else "IN_PROGRESS", "LastModified": lambda_time(config.updated_at)}
    if not with_arn:  # Put/Get answer for the qualifier they name; List names each config's ARN
        out.pop("FunctionArn")
    return out


def _provisioned_function(params: dict[str, Any]) -> tuple[Function, str | None]:
    name, qualifier = name_split(params["FunctionName"], params.get("Qualifier"))
    return function_for(name), qualifier


@operation("lambda", "PutProvisionedConcurrencyConfig")
def put_provisioned_concurrency_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "PutProvisionedConcurrencyConfig", params["FunctionName"], params.get("Qualifier"))
    function, qualifier = _provisioned_function(params)
    return _provisioned_out(provisioned_put(function=function, qualifier=qualifier, requested=params["ProvisionedConcurrentExecutions"]), with_arn=False)


@operation("lambda", "GetProvisionedConcurrencyConfig")
def get_provisioned_concurrency_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "GetProvisionedConcurrencyConfig", params["FunctionName"], params.get("Qualifier"))
    function, qualifier = _provisioned_function(params)
    return _provisioned_out(provisioned_get(function, qualifier), with_arn=False)


@operation("lambda", "DeleteProvisionedConcurrencyConfig")
def delete_provisioned_concurrency_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "DeleteProvisionedConcurrencyConfig", params["FunctionName"], params.get("Qualifier"))
    function, qualifier = _provisioned_function(params)
    provisioned_get(function, qualifier).delete()
    return {}


@operation("lambda", "ListProvisionedConcurrencyConfigs")
def list_provisioned_concurrency_configs(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "ListProvisionedConcurrencyConfigs", params["FunctionName"])
    function, _ = _provisioned_function(params)
    configs = ProvisionedConcurrencyConfig.objects.select_related("function").filter(function=function)
    return {"ProvisionedConcurrencyConfigs": [_provisioned_out(c) for c in configs]}
