"""S3 object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject.

GetObject and HeadObject honour ``Range`` and the four conditional headers as S3 orders them (If-Match
before If-Unmodified-Since, If-None-Match before If-Modified-Since); ``response-*`` query parameters
override the answer's headers. Bodies stream both ways.
"""

from __future__ import annotations

import datetime
from typing import IO, Any
from urllib.parse import unquote

from django.http import HttpResponse
from django.utils.http import http_date

from aws.context import AwsContext
from aws.errors import AwsError
from aws.registry import operation
from aws.services.s3.common import bucket_arn, object_arn, request_info
from storage import selectors, services
from storage.api import parse_range
from storage.blobs import blob_range
from storage.errors import NoSuchKey
from storage.models import Object
from storage.selectors import bucket_by_name

DELETE_MAX_KEYS = 1000
# stored system header -> the output member that carries it
_HEADER_MEMBERS = {"Cache-Control": "CacheControl", "Content-Disposition": "ContentDisposition", "Content-Encoding": "ContentEncoding",
                   "Content-Language": "ContentLanguage", "Expires": "ExpiresString"}
_OVERRIDES = {"ResponseCacheControl": "CacheControl", "ResponseContentDisposition": "ContentDisposition", "ResponseContentEncoding": "ContentEncoding",
              "ResponseContentLanguage": "ContentLanguage", "ResponseContentType": "ContentType", "ResponseExpires": "ExpiresString"}
CHECKSUM_MEMBERS = {"x-amz-checksum-crc32": "ChecksumCRC32", "x-amz-checksum-sha1": "ChecksumSHA1", "x-amz-checksum-sha256": "ChecksumSHA256"}


def stored_headers(params: dict[str, Any]) -> dict[str, str]:
    headers = {name: params[member] for name, member in _HEADER_MEMBERS.items() if member != "ExpiresString" and params.get(member)}
    if params.get("Expires"):
        value = params["Expires"]
        headers["Expires"] = http_date(value.timestamp()) if isinstance(value, datetime.datetime) else str(value)
    return headers


@operation("s3", "PutObject")
def put_object(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket_name, key = params["Bucket"], params["Key"]
    ctx.authorize("s3:PutObject", object_arn(bucket_name, key))
    bucket = bucket_by_name(bucket_name)
    body = params["Body"]
    obj = services.object_put(bucket=bucket, key=key, body=body, size=body.length, content_type=params.get("ContentType"), metadata=params.get("Metadata") or {},
                              headers=stored_headers(params), request=request_info(ctx))
    result: dict[str, Any] = {"ETag": f'"{obj.etag}"'}
    for header, member in CHECKSUM_MEMBERS.items():
        if header in body.checks.expected or ctx.request.headers.get("x-amz-sdk-checksum-algorithm", "").lower() == member[8:].lower():
            if header in body.computed:
                result[member] = body.computed[header]
    return result



def _etag_matches(header: str, etag: str) -> bool:
    wanted = [part.strip() for part in header.split(",")]
    return "*" in wanted or any(w.strip('"') == etag for w in wanted)


def preconditions(params: dict[str, Any], obj: Object, *, prefix: str = "If") -> str | None:
    """``None`` to go on, ``"304"`` for Not Modified; raises ``PreconditionFailed``."""
    modified = obj.last_modified.replace(microsecond=0)
    failed = AwsError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", status=412)
    if_match, if_none = params.get(f"{prefix}Match"), params.get(f"{prefix}NoneMatch")
    since, unmodified = params.get(f"{prefix}ModifiedSince"), params.get(f"{prefix}UnmodifiedSince")
    if if_match is not None:
        if not _etag_matches(if_match, obj.etag):
            failed.fields = {"Condition": "If-Match"}
            raise failed
    elif unmodified is not None and modified > unmodified:
        failed.fields = {"Condition": "If-Unmodified-Since"}
        raise failed
    if if_none is not None:
        if _etag_matches(if_none, obj.etag):
            if prefix != "If":
                raise failed
            return "304"
    elif since is not None and modified <= since:
        if prefix != "If":
            raise failed
        return "304"
    return None


def object_or_denied(ctx: AwsContext, bucket_name: str, key: str, *, open_body: bool) -> tuple[Object, IO[bytes] | None]:
    ctx.authorize("s3:GetObject", object_arn(bucket_name, key))
    bucket = bucket_by_name(bucket_name)
    try:
        if open_body:
            return selectors.object_open(bucket=bucket, key=key)
        return selectors.object_head(bucket=bucket, key=key), None
    except NoSuchKey:
        if not ctx.decide("s3:ListBucket", bucket_arn(bucket_name)).allowed:
            raise AwsError("AccessDenied", "Access Denied", status=403) from None
        raise AwsError("NoSuchKey", "The specified key does not exist.", status=404, fields={"Key": key}) from None


def _read_object(ctx: AwsContext, params: dict[str, Any], *, head: bool) -> dict[str, Any] | HttpResponse:
    obj, handle = object_or_denied(ctx, params["Bucket"], params["Key"], open_body=not head)
    try:
        if preconditions(params, obj) == "304":
            if handle:
                handle.close()
            response = HttpResponse(status=304)
            response["ETag"] = f'"{obj.etag}"'
            response["Last-Modified"] = http_date(obj.last_modified.timestamp())
            response["x-amz-request-id"] = ctx.request_id
            return response
    except BaseException:
        if handle:
            handle.close()
        raise
    result: dict[str, Any] = {"ETag": f'"{obj.etag}"', "LastModified": obj.last_modified, "ContentType": obj.content_type, "AcceptRanges": "bytes",
                              "Metadata": obj.metadata, "ContentLength": obj.size}
    for name, member in _HEADER_MEMBERS.items():
        if obj.headers.get(name):
            result[member] = obj.headers[name]
    for query_member, member in _OVERRIDES.items():
        if params.get(query_member):
            result[member] = params[query_member] if not isinstance(params[query_member], datetime.datetime) else params[query_member].strftime("%a, %d %b %Y %H:%M:%S GMT")
    start, length = 0, obj.size
    wanted = parse_range(params["Range"], obj.size) if params.get("Range") else None
    if wanted == "unsatisfiable":
        if handle:
            handle.close()
        raise AwsError("InvalidRange", "The requested range is not satisfiable", status=416, fields={"RangeRequested": params["Range"], "ActualObjectSize": obj.size})
    if isinstance(wanted, tuple):
        start, end = wanted
        length = end - start + 1
        result.update({"__status__": 206, "ContentRange": f"bytes {start}-{end}/{obj.size}", "ContentLength": length})
    if handle is not None:
        result["Body"] = blob_range(handle, start, length)
    return result


@operation("s3", "GetObject")
def get_object(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any] | HttpResponse:
    return _read_object(ctx, params, head=False)


@operation("s3", "HeadObject")
def head_object(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any] | HttpResponse:
    return _read_object(ctx, params, head=True)


@operation("s3", "DeleteObject")
def delete_object(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket_name, key = params["Bucket"], params["Key"]
    ctx.authorize("s3:DeleteObject", object_arn(bucket_name, key))
    services.object_delete(bucket=bucket_by_name(bucket_name), key=key, request=request_info(ctx))
    return {}


@operation("s3", "DeleteObjects")
def delete_objects(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket_name = params["Bucket"]
    wanted = (params.get("Delete") or {}).get("Objects")
    if not wanted or len(wanted) > DELETE_MAX_KEYS:
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
    bucket = bucket_by_name(bucket_name)
    quiet = bool(params["Delete"].get("Quiet"))
    deleted, errors = [], []
    info = request_info(ctx)
    for entry in wanted:
        key = entry.get("Key", "")
        if not ctx.decide("s3:DeleteObject", object_arn(bucket_name, key)).allowed:
            errors.append({"Key": key, "Code": "AccessDenied", "Message": "Access Denied"})
            continue
        services.object_delete(bucket=bucket, key=key, request=info)
        if not quiet:
            deleted.append({"Key": key})
    result: dict[str, Any] = {}
    if deleted:
        result["Deleted"] = deleted
    if errors:
        result["Errors"] = errors
    return result


def copy_source(text: str) -> tuple[str, str]:
    source = unquote(text.split("?versionId=", 1)[0]).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise AwsError("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey", fields={"ArgumentName": "x-amz-copy-source"})
    return bucket, key


@operation("s3", "CopyObject")
def copy_object(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    source_bucket, source_key = copy_source(params["CopySource"])
    bucket_name, key = params["Bucket"], params["Key"]
    directive = params.get("MetadataDirective", "COPY")
    if directive not in ("COPY", "REPLACE"):
        raise AwsError("InvalidArgument", "Unknown metadata directive.", fields={"ArgumentName": "x-amz-metadata-directive"})
    if (source_bucket, source_key) == (bucket_name, key) and directive == "COPY":
        raise AwsError("InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, "
                       "storage class, website redirect location or encryption attributes.")
    source, handle = object_or_denied(ctx, source_bucket, source_key, open_body=True)
    assert handle is not None
    try:
        preconditions(params, source, prefix="CopySourceIf")
        ctx.authorize("s3:PutObject", object_arn(bucket_name, key))
        target = bucket_by_name(bucket_name)
        replace = directive == "REPLACE"
        obj = services.object_copy(source=source, body=handle, bucket=target, key=key, metadata=(params.get("Metadata") or {}) if replace else None,
                                   content_type=params.get("ContentType") if replace else None, headers=stored_headers(params) if replace else None,
                                   request=request_info(ctx))
    finally:
        handle.close()
    return {"CopyObjectResult": {"ETag": f'"{obj.etag}"', "LastModified": obj.last_modified}}
