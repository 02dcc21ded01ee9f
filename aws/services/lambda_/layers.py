"""Lambda's layer operations: publish, get (by name and version, or by ARN), list, delete, and layer permissions."""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.registry import operation
from aws.services.lambda_.common import code_from, lambda_time, page, sha_b64
from core.errors import Conflict, NotFound
from functions.code import code_url_token
from functions.models import Layer, LayerVersion
from functions.services import layer_version_publish
from functions.versions import STATEMENT_ID

LAYER_VERSION_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:layer:([a-zA-Z0-9_-]+):(\d+)$")
LAYER_NAME = re.compile(r"^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:layer:)?([a-zA-Z0-9_-]{1,64})$")


def _layer_name(text: str) -> str:
    match = LAYER_NAME.match(text or "")
    if not match:
        raise AwsError("InvalidParameterValueException", f"1 validation error detected: Value '{text}' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{{12}}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+")
    return match.group(1)


def _version(name: str, number: int) -> LayerVersion:
    found = LayerVersion.objects.select_related("layer").filter(layer__name=name, version=number).first()
    if found is None:
        raise NotFound("The resource you requested does not exist.")
    return found


def _content_location(ctx: AwsContext, version: LayerVersion) -> str:
    return ctx.request.build_absolute_uri(reverse("api-layer-content-download", args=[code_url_token(f"layer:{version.pk}")]))


def layer_version_out(ctx: AwsContext | None, version: LayerVersion, *, content: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"LayerArn": version.layer.arn, "LayerVersionArn": version.arn, "Description": version.description,
                           "CreatedDate": lambda_time(version.created_at), "Version": version.version,
                           "CompatibleRuntimes": list(version.compatible_runtimes), "CompatibleArchitectures": list(version.compatible_architectures)}
    if version.license_info:
        out["LicenseInfo"] = version.license_info
    if content and ctx is not None:
        out["Content"] = {"Location": _content_location(ctx, version), "CodeSha256": sha_b64(version.sha256), "CodeSize": version.size}
    return out


@operation("lambda", "PublishLayerVersion")
def publish_layer_version(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _layer_name(params["LayerName"])
    ctx.authorize("lambda:PublishLayerVersion", f"arn:aws:lambda:{ctx.region}:{ctx.principal.account}:layer:{name}")
    code = code_from(ctx, params.get("Content") or {})
    version = layer_version_publish(name=name, zip_bytes=code.zip_bytes or b"", compatible_runtimes=params.get("CompatibleRuntimes") or [],
                                    description=params.get("Description") or "", compatible_architectures=params.get("CompatibleArchitectures") or [],
                                    license_info=params.get("LicenseInfo") or "")
    return layer_version_out(ctx, version)


@operation("lambda", "GetLayerVersion")
def get_layer_version(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    version = _version(_layer_name(params["LayerName"]), params["VersionNumber"])
    ctx.authorize("lambda:GetLayerVersion", version.arn)
    return layer_version_out(ctx, version)


@operation("lambda", "GetLayerVersionByArn")
def get_layer_version_by_arn(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    match = LAYER_VERSION_ARN.match(params["Arn"])
    if not match:
        raise AwsError("InvalidParameterValueException", f"{params['Arn']} is not a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION).")
    version = _version(match.group(1), int(match.group(2)))
    ctx.authorize("lambda:GetLayerVersion", version.arn)
    return layer_version_out(ctx, version)


def _compatible(version: LayerVersion, runtime: str | None, architecture: str | None) -> bool:
    return (not runtime or runtime in version.compatible_runtimes) and (not architecture or architecture in version.compatible_architectures)


@operation("lambda", "ListLayers")
def list_layers(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("lambda:ListLayers", "*")
    runtime, architecture = params.get("CompatibleRuntime"), params.get("CompatibleArchitecture")
    layers = []
    for layer in Layer.objects.order_by("name").prefetch_related("versions"):
        matching = [v for v in sorted(layer.versions.all(), key=lambda v: -v.version) if _compatible(v, runtime, architecture)]
        if matching:
            matching[0].layer = layer
            layers.append({"LayerName": layer.name, "LayerArn": layer.arn, "LatestMatchingVersion": layer_version_out(None, matching[0], content=False)})
    chosen, more = page(layers, params, key=lambda entry: entry["LayerName"])
    return {"Layers": chosen, **more}


@operation("lambda", "ListLayerVersions")
def list_layer_versions(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _layer_name(params["LayerName"])
    ctx.authorize("lambda:ListLayerVersions", f"arn:aws:lambda:{ctx.region}:{ctx.principal.account}:layer:{name}")
    runtime, architecture = params.get("CompatibleRuntime"), params.get("CompatibleArchitecture")
    versions = [v for v in LayerVersion.objects.select_related("layer").filter(layer__name=name).order_by("-version") if _compatible(v, runtime, architecture)]
    chosen, more = page(versions, params, key=lambda v: str(v.version))
    return {"LayerVersions": [layer_version_out(None, v, content=False) for v in chosen], **more}


@operation("lambda", "DeleteLayerVersion")
def delete_layer_version(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _layer_name(params["LayerName"])
    version = LayerVersion.objects.select_related("layer").filter(layer__name=name, version=params["VersionNumber"]).first()
    ctx.authorize("lambda:DeleteLayerVersion", f"arn:aws:lambda:{ctx.region}:{ctx.principal.account}:layer:{name}:{params['VersionNumber']}")
    if version is not None:  # as on AWS, deleting a version that is gone succeeds; functions using it keep their copy
        try:
            version.delete()
        except ProtectedError:
            raise AwsError("ResourceConflictException", f"Layer version {version.arn} is used by functions; Kiln keeps it until they move to another version.", status=409) from None
    return {}


@operation("lambda", "AddLayerVersionPermission")
def add_layer_version_permission(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _layer_name(params["LayerName"])
    version = _version(name, params["VersionNumber"])
    ctx.authorize("lambda:AddLayerVersionPermission", version.arn)
    sid, action, principal = params["StatementId"], params["Action"], params["Principal"]
    if not STATEMENT_ID.match(sid):
        raise AwsError("InvalidParameterValueException", "StatementId must be 1-100 letters, digits, hyphens and underscores.")
    if action != "lambda:GetLayerVersion":
        raise AwsError("InvalidParameterValueException", "Action must be lambda:GetLayerVersion.")
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root" if principal.isdigit() else principal},
                                 "Action": action, "Resource": version.arn}
    if params.get("OrganizationId"):
        statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": params["OrganizationId"]}}
    with transaction.atomic():
        locked = LayerVersion.objects.select_for_update().get(pk=version.pk)
        if any(s.get("Sid") == sid for s in locked.policy_statements):
            raise Conflict(f"The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement.")
        locked.policy_statements = [*locked.policy_statements, statement]
        locked.save(update_fields=["policy_statements"])
    return {"Statement": json.dumps(statement), "RevisionId": str(locked.pk)}


@operation("lambda", "GetLayerVersionPolicy")
def get_layer_version_policy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    version = _version(_layer_name(params["LayerName"]), params["VersionNumber"])
    ctx.authorize("lambda:GetLayerVersionPolicy", version.arn)
    if not version.policy_statements:
        raise NotFound("No policy is associated with the given resource.")
    return {"Policy": json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": version.policy_statements}), "RevisionId": str(version.pk)}


@operation("lambda", "RemoveLayerVersionPermission")
def remove_layer_version_permission(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    version = _version(_layer_name(params["LayerName"]), params["VersionNumber"])
    ctx.authorize("lambda:RemoveLayerVersionPermission", version.arn)
    with transaction.atomic():
        locked = LayerVersion.objects.select_for_update().get(pk=version.pk)
        kept = [s for s in locked.policy_statements if s.get("Sid") != params["StatementId"]]
        if len(kept) == len(locked.policy_statements):
            raise NotFound(f"Statement {params['StatementId']} is not found in resource policy.")
        locked.policy_statements = kept
        locked.save(update_fields=["policy_statements"])
    return {}
