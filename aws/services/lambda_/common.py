"""What the Lambda operations share: a revision as Lambda's ``FunctionConfiguration``, names, and IAM checks."""

from __future__ import annotations

import base64
import datetime
import platform
from collections.abc import Callable
from typing import Any

from aws.context import AwsContext
from aws.errors import AwsError
from core.errors import NotFound
from functions import limits
from functions.models import Function, FunctionRevision
from functions.services import Code
from functions.versions import LATEST, Resolved, function_for, function_unqualified_arn, name_split
from storage.selectors import bucket_by_name, object_open

ARCHITECTURE = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def lambda_time(value: datetime.datetime) -> str:
    """Lambda's ``LastModified`` format: ``2024-05-01T12:00:00.000+0000``."""
    value = value.astimezone(datetime.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def sha_b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def function_configuration(function: Function, revision: FunctionRevision, version: str = LATEST) -> dict[str, Any]:
    """A revision as Lambda's ``FunctionConfiguration`` (``version`` is ``$LATEST`` or a published number)."""
    layers = revision.ordered_layers()
    config: dict[str, Any] = {
        "FunctionName": function.name,
        "FunctionArn": function.arn if version == LATEST else f"{function.arn}:{version}",
        "Runtime": revision.runtime,
        "Role": revision.role.arn if revision.role_id and revision.role else "",
        "Handler": revision.handler,
        "CodeSize": revision.code_size,
        "Description": function.description,
        "Timeout": revision.timeout,
        "MemorySize": revision.memory_size,
        "LastModified": lambda_time(revision.created_at),
        "CodeSha256": sha_b64(revision.code_sha256),
        "Version": version,
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": str(revision.revision_id),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": [ARCHITECTURE],
        "EphemeralStorage": {"Size": revision.ephemeral_storage},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.name}"},
    }
    if revision.environment:
        config["Environment"] = {"Variables": dict(revision.environment)}
    if layers:
        config["Layers"] = [{"Arn": lv.arn, "CodeSize": lv.size} for lv in layers]
    if function.dead_letter_target:
        config["DeadLetterConfig"] = {"TargetArn": function.dead_letter_target}
    return config


def function_resource(text: str, qualifier: str | None = None) -> str:
    """The ARN an IAM decision is made on: the function's, with its qualifier when one is named."""
    name, found = name_split(text, qualifier)
    return function_unqualified_arn(name) + (f":{found}" if found else "")


def unqualified_function(text: str, what: str) -> Function:
    """The function named without a version or alias; ``InvalidParameterValueException`` naming ``what`` needs that."""
    _, qualifier = name_split(text)
    if qualifier:
        raise AwsError("InvalidParameterValueException", f"{what} takes the unqualified function: {text!r} names a version or alias.")
    return function_for(text)


def authorized(ctx: AwsContext, action: str, text: str, qualifier: str | None = None) -> None:
    ctx.authorize(f"lambda:{action}", function_resource(text, qualifier))


def resolved_arn(resolved: Resolved) -> str:
    return resolved.function.arn + (f":{resolved.qualifier}" if resolved.qualifier else "")


def page(items: list[Any], params: dict[str, Any], key: Callable[[Any], str], *, size: int = 50) -> tuple[list[Any], dict[str, str]]:
    """One page of a Lambda list (``Marker``/``MaxItems`` 1-10000) and ``{"NextMarker": ...}`` when more follow."""
    max_items, marker = params.get("MaxItems"), params.get("Marker")
    if max_items is not None and not 1 <= max_items <= 10_000:
        raise AwsError("InvalidParameterValueException", f"MaxItems must be between 1 and 10000; got {max_items}.")
    size = max_items or size
    start = 0
    if marker:
        keys = [key(item) for item in items]
        if marker not in keys:
            raise AwsError("InvalidParameterValueException", "Marker is not valid: use the NextMarker of the previous page.")
        start = keys.index(marker) + 1
    chosen = items[start:start + size]
    return chosen, ({"NextMarker": key(chosen[-1])} if chosen and start + size < len(items) else {})


def int_checked(params: dict[str, Any], member: str, wire: str, low: int, high: int) -> int | None:
    value = params.get(member)
    if value is None:
        return None
    if value < low:
        raise AwsError("InvalidParameterValueException",
                       f"1 validation error detected: Value '{value}' at '{wire}' failed to satisfy constraint: Member must have value greater than or equal to {low}")
    if value > high:
        raise AwsError("InvalidParameterValueException",
                       f"1 validation error detected: Value '{value}' at '{wire}' failed to satisfy constraint: Member must have value less than or equal to {high}")
    return int(value)


def config_changes(params: dict[str, Any]) -> dict[str, Any]:
    """The FunctionConfig fields a CreateFunction/UpdateFunctionConfiguration request sets."""
    changes: dict[str, Any] = {}
    if "Runtime" in params:
        changes["runtime"] = params["Runtime"]
    if "Handler" in params:
        changes["handler"] = params["Handler"]
    memory = int_checked(params, "MemorySize", "memorySize", limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB)
    if memory is not None:
        changes["memory_size"] = memory
    timeout = int_checked(params, "Timeout", "timeout", limits.TIMEOUT_MIN_S, limits.TIMEOUT_MAX_S)
    if timeout is not None:
        changes["timeout"] = timeout
    storage = (params.get("EphemeralStorage") or {}).get("Size")
    if storage is not None:
        changes["ephemeral_storage"] = int_checked({"s": storage}, "s", "ephemeralStorage.size", limits.EPHEMERAL_MIN_MB, limits.EPHEMERAL_MAX_MB)
    if "Environment" in params:
        changes["environment"] = (params["Environment"] or {}).get("Variables") or {}
    if "Role" in params:
        changes["role"] = params["Role"]
    if "Layers" in params:
        changes["layers"] = params["Layers"] or []
    architectures = params.get("Architectures")
    if architectures and architectures != [ARCHITECTURE]:
        raise AwsError("InvalidParameterValueException", f"This Kiln host runs {ARCHITECTURE} functions only; Architectures must be [\"{ARCHITECTURE}\"].")
    for unsupported in ("VpcConfig", "KMSKeyArn", "FileSystemConfigs", "ImageConfig", "SnapStart"):
        value = params.get(unsupported)
        if unsupported == "VpcConfig" and value and not (value.get("SubnetIds") or value.get("SecurityGroupIds")):
            continue
        if unsupported == "SnapStart" and value and value.get("ApplyOn") in (None, "None"):
            continue
        if value:
            raise AwsError("InvalidParameterValueException", f"Kiln does not support {unsupported}; leave it out.")
    return changes


def code_from(ctx: AwsContext, code: dict[str, Any]) -> Code:
    """A function's or layer's code as given: a zip's bytes, or a Kiln bucket's object (``s3:GetObject`` decided)."""
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
