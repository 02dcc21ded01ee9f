"""Lambda's function operations: create, read, list, update code and configuration, delete, tags."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.registry import operation
from aws.services.lambda_.common import authorized, code_from, config_changes, function_configuration, page, unqualified_function
from core.errors import PreconditionFailed
from functions.code import code_url_token
from functions.models import Function, FunctionVersion
from functions.services import FunctionConfig, dead_letter_checked, function_create, function_dead_letter_put, function_delete, function_update, validate_function_name
from functions.versions import LATEST, function_for, function_tag, function_untag, name_split, qualified_resolve, version_delete, version_publish
from iam.services import role_resolve


def _pass_role(ctx: AwsContext, role: str | None) -> None:
    if role:
        resolved = role_resolve(role)
        ctx.authorize("iam:PassRole", resolved.arn)


def _code_location(ctx: AwsContext, revision_uuid: str) -> str:
    return ctx.request.build_absolute_uri(reverse("api-function-code-download", args=[code_url_token(revision_uuid)]))


@operation("lambda", "CreateFunction")
def create_function(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["FunctionName"]
    authorized(ctx, "CreateFunction", name)
    validate_function_name(name)
    if params.get("PackageType") == "Image":
        raise AwsError("InvalidParameterValueException", "Kiln runs zip packages only; PackageType must be Zip.")
    changes = config_changes(params)
    if not changes.get("runtime"):
        raise AwsError("InvalidParameterValueException", "Runtime is required for .zip deployment package.")
    if not changes.get("handler"):
        raise AwsError("InvalidParameterValueException", "Handler is required for .zip deployment package.")
    _pass_role(ctx, changes.get("role"))
    if Function.objects.filter(name=name).exists():
        raise AwsError("ResourceConflictException", f"Function already exist: {name}", status=409)
    dead_letter = dead_letter_checked((params.get("DeadLetterConfig") or {}).get("TargetArn"))  # checked before anything is written
    code = code_from(ctx, params.get("Code") or {})
    tags = params.get("Tags") or {}
    config = FunctionConfig(**changes)
    function = function_create(name=name, config=config, code=code, description=params.get("Description") or "")
    if dead_letter:
        function = function_dead_letter_put(function=function, target=dead_letter)
    if tags:
        function = function_tag(function=function, tags=tags)
    function.refresh_from_db()
    assert function.latest is not None
    if params.get("Publish"):
        version = version_publish(function=function, description=params.get("Description") or "")
        return function_configuration(function, version.revision, str(version.version))
    return function_configuration(function, function.latest)


@operation("lambda", "GetFunction")
def get_function(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "GetFunction", params["FunctionName"], params.get("Qualifier"))
    resolved = _no_weights(qualified_resolve(params["FunctionName"], params.get("Qualifier")))
    out: dict[str, Any] = {
        "Configuration": function_configuration(resolved.function, resolved.revision, resolved.version),
        "Code": {"RepositoryType": "S3", "Location": _code_location(ctx, str(resolved.revision.revision_id))},
    }
    if resolved.function.tags:
        out["Tags"] = dict(resolved.function.tags)
    if resolved.function.reserved_concurrency is not None:
        out["Concurrency"] = {"ReservedConcurrentExecutions": resolved.function.reserved_concurrency}
    return out


def _no_weights(resolved: Any) -> Any:
    """Reading an alias shows its primary version (a weighted pick is for invocations only)."""
    if resolved.alias is not None and resolved.version != resolved.alias.function_version:
        return qualified_resolve(resolved.function.name, resolved.alias.function_version)
    return resolved


@operation("lambda", "GetFunctionConfiguration")
def get_function_configuration(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "GetFunctionConfiguration", params["FunctionName"], params.get("Qualifier"))
    resolved = _no_weights(qualified_resolve(params["FunctionName"], params.get("Qualifier")))
    return function_configuration(resolved.function, resolved.revision, resolved.version)


@operation("lambda", "ListFunctions")
def list_functions(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("lambda:ListFunctions", "*")
    functions = list(Function.objects.select_related("latest", "latest__role").prefetch_related("latest__layer_links__layer_version__layer")
                     .filter(latest__isnull=False).order_by("name"))
    rows: list[tuple[Function, Any, str]] = [(f, f.latest, LATEST) for f in functions]
    if params.get("FunctionVersion") == "ALL":
        versions = (FunctionVersion.objects.select_related("revision", "revision__role", "function").prefetch_related("revision__layer_links__layer_version__layer")
                    .order_by("function__name", "version"))
        by_function: dict[int, list[FunctionVersion]] = {}
        for v in versions:
            by_function.setdefault(v.function_id, []).append(v)
        rows = [row for f in functions for row in [(f, f.latest, LATEST)] + [(f, v.revision, str(v.version)) for v in by_function.get(f.pk, [])]]
    chosen, more = page(rows, params, key=lambda r: f"{r[0].name}:{r[2]}")
    return {"Functions": [_listed(ctx, function_configuration(f, rev, v)) for f, rev, v in chosen], **more}


def _listed(ctx: AwsContext, config: dict[str, Any]) -> dict[str, Any]:
    """A listed function's environment, unless a policy explicitly denies the caller reading its configuration
    (the Viewers persona does, iam/personas.py): then Lambda's ``EnvironmentResponse.Error``, as when the
    function's KMS key may not be used. Only an explicit deny hides it: Lambda itself lists environments to
    anyone allowed ``ListFunctions``, and code written for it may rely on that."""
    if "Environment" in config and ctx.decide("lambda:GetFunctionConfiguration", config["FunctionArn"]).decision == "explicitDeny":
        config["Environment"] = {"Error": {"ErrorCode": "AccessDeniedException",
                                           "Message": "The caller may not read this function's environment variables (lambda:GetFunctionConfiguration)."}}
    return config


def _revision_precondition(function: Function, revision_id: str | None) -> None:
    assert function.latest is not None
    if revision_id and revision_id != str(function.latest.revision_id):
        raise PreconditionFailed("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")


@operation("lambda", "UpdateFunctionCode")
def update_function_code(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "UpdateFunctionCode", params["FunctionName"])
    function = unqualified_function(params["FunctionName"], "UpdateFunctionCode")
    _revision_precondition(function, params.get("RevisionId"))
    config_changes({"Architectures": params.get("Architectures")})  # only the host's architecture
    code = code_from(ctx, {k: params.get(k) for k in ("ZipFile", "S3Bucket", "S3Key", "ImageUri")})
    if params.get("DryRun"):
        assert function.latest is not None
        return function_configuration(function, function.latest)
    function = function_update(function=function, changes={}, code=code)
    function.refresh_from_db()
    assert function.latest is not None
    if params.get("Publish"):
        version = version_publish(function=function)
        return function_configuration(function, version.revision, str(version.version))
    return function_configuration(function, function.latest)


@operation("lambda", "UpdateFunctionConfiguration")
def update_function_configuration(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "UpdateFunctionConfiguration", params["FunctionName"])
    function = unqualified_function(params["FunctionName"], "UpdateFunctionConfiguration")
    _revision_precondition(function, params.get("RevisionId"))
    changes = config_changes(params)
    _pass_role(ctx, changes.get("role"))
    dead_letter = dead_letter_checked((params.get("DeadLetterConfig") or {}).get("TargetArn")) if "DeadLetterConfig" in params else None
    function = function_update(function=function, changes=changes, description=params.get("Description"))
    if dead_letter is not None:
        function = function_dead_letter_put(function=function, target=dead_letter)
    function.refresh_from_db()
    assert function.latest is not None
    return function_configuration(function, function.latest)


@operation("lambda", "DeleteFunction")
def delete_function(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "DeleteFunction", params["FunctionName"], params.get("Qualifier"))
    name, qualifier = name_split(params["FunctionName"], params.get("Qualifier"))
    function = function_for(name)
    if qualifier == LATEST:
        raise AwsError("InvalidParameterValueException", "$LATEST version cannot be deleted without deleting the function.")
    if qualifier:
        version_delete(function=function, version=qualifier)
    else:
        function_delete(function=function)
    return {"StatusCode": 204}


def _tag_target(ctx: AwsContext, resource: str, action: str) -> Function:
    ctx.authorize(f"lambda:{action}", resource)
    return unqualified_function(resource, "Tagging")


@operation("lambda", "TagResource")
def tag_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    function_tag(function=_tag_target(ctx, params["Resource"], "TagResource"), tags=params.get("Tags") or {})
    return {}


@operation("lambda", "UntagResource")
def untag_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    function_untag(function=_tag_target(ctx, params["Resource"], "UntagResource"), keys=params.get("TagKeys") or [])
    return {}


@operation("lambda", "ListTags")
def list_tags(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": dict(_tag_target(ctx, params["Resource"], "ListTags").tags)}


@operation("lambda", "PublishVersion")
def publish_version(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "PublishVersion", params["FunctionName"])
    function = unqualified_function(params["FunctionName"], "PublishVersion")
    version = version_publish(function=function, description=params.get("Description") or "", code_sha256=params.get("CodeSha256"),
                              revision_id=params.get("RevisionId"))
    out = function_configuration(function, version.revision, str(version.version))
    out["Description"] = version.description
    return out


@operation("lambda", "ListVersionsByFunction")
def list_versions_by_function(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "ListVersionsByFunction", params["FunctionName"])
    function = unqualified_function(params["FunctionName"], "ListVersionsByFunction")
    assert function.latest is not None
    rows: list[tuple[Any, str, str]] = [(function.latest, LATEST, function.description)]
    rows += [(v.revision, str(v.version), v.description) for v in FunctionVersion.objects.select_related("revision", "revision__role").filter(function=function)]
    chosen, more = page(rows, params, key=lambda r: r[1])
    versions = []
    for revision, number, description in chosen:
        config = function_configuration(function, revision, number)
        config["Description"] = description
        versions.append(config)
    return {"Versions": versions, **more}

