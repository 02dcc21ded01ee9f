"""S3 multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
ListParts, ListMultipartUploads, over ``storage.multipart``. Parts are decided as ``s3:PutObject`` on the
object, as IAM documents; aborting and listing have their own actions."""

from __future__ import annotations

import re
from typing import IO, Any

from aws.context import AwsContext
from aws.errors import AwsError
from aws.registry import operation
from aws.services.s3.common import bucket_arn, object_arn, owner, request_info
from aws.services.s3.objects import CHECKSUM_MEMBERS, copy_source, object_or_denied, preconditions, stored_headers
from storage import multipart
from storage.models import MultipartUpload
from storage.selectors import bucket_by_name

LIST_MAX = 1000
_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")


def _upload(ctx: AwsContext, action: str, params: dict[str, Any]) -> MultipartUpload:
    ctx.authorize(action, object_arn(params["Bucket"], params["Key"]))
    return multipart.multipart_get(bucket=bucket_by_name(params["Bucket"]), key=params["Key"], upload_id=params["UploadId"])


@operation("s3", "CreateMultipartUpload")
def create_multipart_upload(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("s3:PutObject", object_arn(params["Bucket"], params["Key"]))
    upload = multipart.multipart_create(bucket=bucket_by_name(params["Bucket"]), key=params["Key"], content_type=params.get("ContentType"),
                                        metadata=params.get("Metadata") or {}, headers=stored_headers(params))
    result: dict[str, Any] = {"Bucket": params["Bucket"], "Key": params["Key"], "UploadId": upload.upload_id}
    if params.get("ChecksumAlgorithm"):
        result["ChecksumAlgorithm"] = params["ChecksumAlgorithm"]
    return result


@operation("s3", "UploadPart")
def upload_part(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    upload = _upload(ctx, "s3:PutObject", params)
    body = params["Body"]
    part = multipart.multipart_part_put(upload=upload, part_number=int(params["PartNumber"]), body=body, size=body.length)
    result: dict[str, Any] = {"ETag": f'"{part.etag}"'}
    for header, member in CHECKSUM_MEMBERS.items():
        if header in body.checks.expected and header in body.computed:
            result[member] = body.computed[header]
    return result


class _Window:
    """``length`` bytes of an open body from ``start``."""

    def __init__(self, handle: IO[bytes], start: int, length: int) -> None:
        handle.seek(start)
        self.handle, self.left = handle, length

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        data = self.handle.read(self.left if size is None or size < 0 else min(size, self.left))
        self.left -= len(data)
        return data


@operation("s3", "UploadPartCopy")
def upload_part_copy(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    source_bucket, source_key = copy_source(params["CopySource"])
    upload = _upload(ctx, "s3:PutObject", params)
    source, handle = object_or_denied(ctx, source_bucket, source_key, open_body=True)
    assert handle is not None
    try:
        preconditions(params, source, prefix="CopySourceIf")
        start, length = 0, source.size
        if params.get("CopySourceRange"):
            match = _RANGE.match(params["CopySourceRange"].strip())
            if not match or int(match.group(1)) > int(match.group(2)) or int(match.group(2)) >= source.size:
                raise AwsError("InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based "
                               "offsets of the first and last bytes to copy", fields={"ArgumentName": "x-amz-copy-source-range"})
            start, length = int(match.group(1)), int(match.group(2)) - int(match.group(1)) + 1
        part = multipart.multipart_part_put(upload=upload, part_number=int(params["PartNumber"]), body=_Window(handle, start, length), size=length)
    finally:
        handle.close()
    return {"CopyPartResult": {"ETag": f'"{part.etag}"', "LastModified": part.last_modified}}


@operation("s3", "CompleteMultipartUpload")
def complete_multipart_upload(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    upload = _upload(ctx, "s3:PutObject", params)
    listed = (params.get("MultipartUpload") or {}).get("Parts") or []
    try:
        parts = [(int(p["PartNumber"]), str(p["ETag"])) for p in listed]
    except (KeyError, ValueError):
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.") from None
    obj = multipart.multipart_complete(upload=upload, parts=parts, request=request_info(ctx))
    return {"Location": f"/{params['Bucket']}/{params['Key']}", "Bucket": params["Bucket"], "Key": params["Key"], "ETag": f'"{obj.etag}"'}


@operation("s3", "AbortMultipartUpload")
def abort_multipart_upload(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    multipart.multipart_abort(upload=_upload(ctx, "s3:AbortMultipartUpload", params))
    return {}


@operation("s3", "ListParts")
def list_parts(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    upload = _upload(ctx, "s3:ListMultipartUploadParts", params)
    marker = int(params.get("PartNumberMarker") or 0)
    size = min(int(params.get("MaxParts") or LIST_MAX), LIST_MAX)
    parts = list(upload.parts.filter(part_number__gt=marker).order_by("part_number")[: size + 1])
    truncated = len(parts) > size
    parts = parts[:size]
    result: dict[str, Any] = {"Bucket": params["Bucket"], "Key": params["Key"], "UploadId": upload.upload_id, "PartNumberMarker": marker, "MaxParts": size,
                              "IsTruncated": truncated, "Initiator": {"ID": owner()["ID"], "DisplayName": "kiln"}, "Owner": owner(), "StorageClass": "STANDARD",
                              "Parts": [{"PartNumber": p.part_number, "LastModified": p.last_modified, "ETag": f'"{p.etag}"', "Size": p.size} for p in parts]}
    if truncated and parts:
        result["NextPartNumberMarker"] = parts[-1].part_number
    return result


@operation("s3", "ListMultipartUploads")
def list_multipart_uploads(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("s3:ListBucketMultipartUploads", bucket_arn(params["Bucket"]))
    bucket = bucket_by_name(params["Bucket"])
    size = min(int(params.get("MaxUploads") or LIST_MAX), LIST_MAX)
    uploads = MultipartUpload.objects.filter(bucket=bucket).order_by("key", "initiated", "id")
    if params.get("Prefix"):
        uploads = uploads.filter(key__startswith=params["Prefix"])
    if params.get("KeyMarker"):
        uploads = uploads.filter(key__gt=params["KeyMarker"])
    chosen = list(uploads[: size + 1])
    truncated = len(chosen) > size
    chosen = chosen[:size]
    result: dict[str, Any] = {"Bucket": bucket.name, "MaxUploads": size, "IsTruncated": truncated, "Prefix": params.get("Prefix", ""),
                              "Uploads": [{"UploadId": u.upload_id, "Key": u.key, "Initiated": u.initiated, "StorageClass": "STANDARD", "Owner": owner(),
                                           "Initiator": {"ID": owner()["ID"], "DisplayName": "kiln"}} for u in chosen]}
    if params.get("KeyMarker"):
        result["KeyMarker"] = params["KeyMarker"]
    if truncated and chosen:
        result.update({"NextKeyMarker": chosen[-1].key, "NextUploadIdMarker": chosen[-1].upload_id})
    return result
