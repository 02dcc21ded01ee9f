"""Lambda's alias operations: create, get, update, delete and list, with weighted routing between two versions."""

from __future__ import annotations

from typing import Any

from aws.context import AwsContext
from aws.registry import operation
from aws.services.lambda_.common import authorized, page, unqualified_function
from functions.models import FunctionAlias
from functions.versions import alias_create, alias_delete, alias_get, alias_update


def alias_configuration(alias: FunctionAlias) -> dict[str, Any]:
    out: dict[str, Any] = {"AliasArn": alias.arn, "Name": alias.name, "FunctionVersion": alias.function_version,
                           "Description": alias.description, "RevisionId": str(alias.revision_id)}
    if alias.additional_version:
        out["RoutingConfig"] = {"AdditionalVersionWeights": {alias.additional_version: alias.additional_weight}}
    return out


def _function(params: dict[str, Any]) -> Any:
    return unqualified_function(params["FunctionName"], "An alias operation")


def _routing(params: dict[str, Any]) -> dict[str, Any] | None:
    config = params.get("RoutingConfig")
    if config is None:
        return None
    return dict(config.get("AdditionalVersionWeights") or {})


@operation("lambda", "CreateAlias")
def create_alias(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "CreateAlias", params["FunctionName"], params["Name"])
    function = _function(params)
    alias = alias_create(function=function, name=params["Name"], function_version=params["FunctionVersion"],
                         description=params.get("Description") or "", routing=_routing(params))
    return alias_configuration(alias)


@operation("lambda", "GetAlias")
def get_alias(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "GetAlias", params["FunctionName"], params["Name"])
    return alias_configuration(alias_get(_function(params), params["Name"]))


@operation("lambda", "UpdateAlias")
def update_alias(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "UpdateAlias", params["FunctionName"], params["Name"])
    alias = alias_get(_function(params), params["Name"])
    return alias_configuration(alias_update(alias=alias, function_version=params.get("FunctionVersion"), description=params.get("Description"),
                                            routing=_routing(params), revision_id=params.get("RevisionId")))


@operation("lambda", "DeleteAlias")
def delete_alias(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "DeleteAlias", params["FunctionName"], params["Name"])
    alias_delete(alias=alias_get(_function(params), params["Name"]))
    return {}


@operation("lambda", "ListAliases")
def list_aliases(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "ListAliases", params["FunctionName"])
    function = _function(params)
    aliases = FunctionAlias.objects.filter(function=function).order_by("name")
    version = params.get("FunctionVersion")
    if version:
        aliases = aliases.filter(function_version=version)
    chosen, more = page(list(aliases), params, key=lambda a: a.name)
    return {"Aliases": [alias_configuration(a) for a in chosen], **more}
