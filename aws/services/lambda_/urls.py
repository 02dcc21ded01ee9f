"""Lambda's function URL operations over Kiln's function URLs (``httpapi.FunctionUrl``), one per function."""

from __future__ import annotations

from typing import Any

from aws.context import AwsContext
from aws.errors import AwsError
from aws.registry import operation
from aws.services.lambda_.common import authorized
from core.errors import NotFound
from functions.models import Function
from functions.versions import LATEST, function_for, name_split
from httpapi.models import FunctionUrl
from httpapi.services import function_url_delete, function_url_put

_CORS_OUT = {"allowCredentials": "AllowCredentials", "allowHeaders": "AllowHeaders", "allowMethods": "AllowMethods", "allowOrigins": "AllowOrigins",
             "exposeHeaders": "ExposeHeaders", "maxAge": "MaxAge"}


def _function(params: dict[str, Any]) -> Function:
    name, qualifier = name_split(params["FunctionName"], params.get("Qualifier"))
    if qualifier and qualifier != LATEST:
        raise AwsError("InvalidParameterValueException", "Kiln serves function URLs for $LATEST: leave out the qualifier.")
    return function_for(name)


def _url_config(ctx: AwsContext, url: FunctionUrl) -> dict[str, Any]:
    host = ctx.request.get_host()
    port = f":{host.rsplit(':', 1)[1]}" if ":" in host else ""
    out: dict[str, Any] = {"FunctionUrl": f"{ctx.request.scheme}://{url.url_id}.lambda-url.localhost{port}/", "FunctionArn": url.function.arn,
                           "AuthType": url.auth_type, "CreationTime": url.created_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                           "LastModifiedTime": url.updated_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "InvokeMode": "BUFFERED"}
    if url.cors:
        out["Cors"] = {_CORS_OUT[k]: v for k, v in url.cors.items() if k in _CORS_OUT}
    return out


def _existing(function: Function) -> FunctionUrl:
    url = FunctionUrl.objects.select_related("function").filter(function=function).first()
    if url is None:
        raise NotFound(f"The resource you requested does not exist: no function URL for {function.arn}.")
    return url


def _invoke_mode(params: dict[str, Any]) -> None:
    if params.get("InvokeMode") not in (None, "BUFFERED"):
        raise AwsError("InvalidParameterValueException", "Kiln's function URLs answer in BUFFERED mode only; RESPONSE_STREAM is not supported.")


@operation("lambda", "CreateFunctionUrlConfig")
def create_function_url_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "CreateFunctionUrlConfig", params["FunctionName"], params.get("Qualifier"))
    function = _function(params)
    _invoke_mode(params)
    if FunctionUrl.objects.filter(function=function).exists():
        raise AwsError("ResourceConflictException", f"Failed to create function url config for [functionArn = {function.arn}]. Error message:  FunctionUrlConfig exists for this Lambda function", status=409)
    url, _ = function_url_put(function=function, auth_type=params["AuthType"], cors=params.get("Cors"))
    return _url_config(ctx, url)


@operation("lambda", "GetFunctionUrlConfig")
def get_function_url_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "GetFunctionUrlConfig", params["FunctionName"], params.get("Qualifier"))
    return _url_config(ctx, _existing(_function(params)))


@operation("lambda", "UpdateFunctionUrlConfig")
def update_function_url_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "UpdateFunctionUrlConfig", params["FunctionName"], params.get("Qualifier"))
    function = _function(params)
    _invoke_mode(params)
    current = _existing(function)
    url, _ = function_url_put(function=function, auth_type=params.get("AuthType") or current.auth_type,
                              cors=params["Cors"] if "Cors" in params else current.cors)
    return _url_config(ctx, url)


@operation("lambda", "DeleteFunctionUrlConfig")
def delete_function_url_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "DeleteFunctionUrlConfig", params["FunctionName"], params.get("Qualifier"))
    function_url_delete(url=_existing(_function(params)))
    return {}


@operation("lambda", "ListFunctionUrlConfigs")
def list_function_url_configs(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "ListFunctionUrlConfigs", params["FunctionName"])
    function = _function(params)
    url = FunctionUrl.objects.select_related("function").filter(function=function).first()
    return {"FunctionUrlConfigs": [_url_config(ctx, url)] if url else []}
