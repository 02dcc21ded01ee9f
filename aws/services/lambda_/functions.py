"""Lambda's function operations: create, read, list, update code and configuration, delete, tags."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.registry import operation
from aws.services.lambda_.common import authorized, config_changes, function_configuration, unqualified_function
from core.errors import NotFound, PreconditionFailed
from functions import limits
from functions.code import code_url_token
from functions.models import Function, FunctionVersion
from functions.services import Code, FunctionConfig, function_create, function_delete, function_update, validate_function_name
from functions.versions import LATEST, function_for, function_tag, function_untag, name_split, qualified_resolve, version_delete, version_publish
from iam.services import role_resolve
from storage.selectors import bucket_by_name, object_open


def _code(ctx: AwsContext, code: dict[str, Any]) -> Code:
    if code.get("ImageUri"):
        raise AwsError("InvalidParameterValueException", "Kiln runs zip packages only; container images (ImageUri) are not supported.")
    if code.get("ZipFile") is not None:
        return Code(zip_bytes=code["ZipFile"])
    bucket, key = code.get("S3Bucket"), code.get("S3Key")
    if bucket and key:
        ctx.authorize("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}")
        try:
            obj, handle = object_open(bucket=bucket_by_name(bucket), key=key)
        except NotFound:
            raise AwsError("InvalidParameterValueException", f"Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist. (s3://{bucket}/{key})") from None
        with handle:
            if obj.size > limits.ZIP_MAX_BYTES:
                raise AwsError("InvalidParameterValueException", f"Unzipped size must be smaller than {limits.UNZIPPED_MAX_BYTES} bytes; the zip at s3://{bucket}/{key} is {obj.size} bytes, more than {limits.ZIP_MAX_BYTES}.")
            return Code(zip_bytes=handle.read())
    raise AwsError("InvalidParameterValueException", "Please provide a source for function code: ZipFile, or S3Bucket and S3Key.")


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
    code = _code(ctx, params.get("Code") or {})
    tags = params.get("Tags") or {}
    config = FunctionConfig(**changes)
    function = function_create(name=name, config=config, code=code, description=params.get("Description") or "")
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


def _page(items: list[Any], marker: str | None, max_items: int | None, key: Any) -> tuple[list[Any], str | None]:
    if max_items is not None and not 1 <= max_items <= 10000:
        raise AwsError("InvalidParameterValueException", "MaxItems must be between 1 and 10000.")
    size = max_items or 50
    start = 0
    if marker:
        keys = [key(i) for i in items]
        if marker not in keys:
            raise AwsError("InvalidParameterValueException", "Marker is not valid: use the NextMarker of the previous page.")
        start = keys.index(marker) + 1
    page = items[start:start + size]
    more = start + size < len(items)
    return page, (key(page[-1]) if more and page else None)


@operation("lambda", "ListFunctions")
def list_functions(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("lambda:ListFunctions", "*")
    functions = list(Function.objects.select_related("latest", "latest__role").filter(latest__isnull=False).order_by("name"))
    rows: list[tuple[Function, Any, str]] = [(f, f.latest, LATEST) for f in functions]
    if params.get("FunctionVersion") == "ALL":
        versions = FunctionVersion.objects.select_related("revision", "revision__role", "function").order_by("function__name", "version")
        by_function: dict[int, list[FunctionVersion]] = {}
        for v in versions:
            by_function.setdefault(v.function_id, []).append(v)
        rows = [row for f in functions for row in [(f, f.latest, LATEST)] + [(f, v.revision, str(v.version)) for v in by_function.get(f.pk, [])]]
    page, next_marker = _page(rows, params.get("Marker"), params.get("MaxItems"), key=lambda r: f"{r[0].name}:{r[2]}")
    out: dict[str, Any] = {"Functions": [function_configuration(f, rev, v) for f, rev, v in page]}
    if next_marker:
        out["NextMarker"] = next_marker
    return out


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
    code = _code(ctx, {k: params.get(k) for k in ("ZipFile", "S3Bucket", "S3Key", "ImageUri")})
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
    function = function_update(function=function, changes=changes, description=params.get("Description"))
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
    page, next_marker = _page(rows, params.get("Marker"), params.get("MaxItems"), key=lambda r: r[1])
    versions = []
    for revision, number, description in page:
        config = function_configuration(function, revision, number)
        config["Description"] = description
        versions.append(config)
    out: dict[str, Any] = {"Versions": versions}
    if next_marker:
        out["NextMarker"] = next_marker
    return out

