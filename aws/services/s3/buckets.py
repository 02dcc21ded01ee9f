"""S3 bucket operations: ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation, ListObjects(V2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

from django.conf import settings
from django.http import HttpResponse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.protocols.xmlshapes import xml_document
from aws.registry import operation
from aws.services.s3.common import bucket_arn, bucket_for, owner
from storage import limits, selectors, services
from storage.models import Bucket

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"


@operation("s3", "ListBuckets")
def list_buckets(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("s3:ListAllMyBuckets", "*")
    buckets = Bucket.objects.order_by("name")
    if params.get("Prefix"):
        buckets = buckets.filter(name__startswith=params["Prefix"])
    return {"Buckets": [{"Name": b.name, "CreationDate": b.created_at, "BucketRegion": settings.KILN_REGION} for b in buckets], "Owner": owner()}


@operation("s3", "CreateBucket")
def create_bucket(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["Bucket"]
    ctx.authorize("s3:CreateBucket", bucket_arn(name))
    services.bucket_create(name=name)
    return {"Location": f"/{name}"}


@operation("s3", "DeleteBucket")
def delete_bucket(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.bucket_delete(bucket=bucket_for(ctx, "s3:DeleteBucket", params["Bucket"]))
    return {}


@operation("s3", "HeadBucket")
def head_bucket(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_for(ctx, "s3:ListBucket", params["Bucket"])
    return {"BucketRegion": settings.KILN_REGION, "BucketArn": bucket.arn}


@operation("s3", "GetBucketLocation")
def get_bucket_location(ctx: AwsContext, params: dict[str, Any]) -> HttpResponse:
    bucket_for(ctx, "s3:GetBucketLocation", params["Bucket"])
    root = ET.Element("LocationConstraint", xmlns=S3_NAMESPACE)
    root.text = "" if settings.KILN_REGION == "us-east-1" else settings.KILN_REGION
    return HttpResponse(xml_document(root), content_type="application/xml", headers={"x-amz-request-id": ctx.request_id})


def _max_keys(params: dict[str, Any]) -> int:
    value = params.get("MaxKeys", limits.LIST_MAX_KEYS)
    if value < 0:
        raise AwsError("InvalidArgument", "Argument maxKeys must be an integer between 0 and 2147483647", fields={"ArgumentName": "maxKeys"})
    return min(value, limits.LIST_MAX_KEYS)


def _encoder(params: dict[str, Any]) -> Any:
    kind = params.get("EncodingType")
    if kind not in (None, "url"):
        raise AwsError("InvalidArgument", "Invalid Encoding Method specified in Request", fields={"ArgumentName": "encoding-type"})
    return (lambda text: quote(text, safe="/")) if kind == "url" else (lambda text: text)


def _list(ctx: AwsContext, params: dict[str, Any], *, cursor: str | None, start_after: str) -> tuple[Any, dict[str, Any], Any]:
    prefix, delimiter = params.get("Prefix", ""), params.get("Delimiter", "")
    max_keys = _max_keys(params)
    condition = {"s3:prefix": prefix, "s3:delimiter": delimiter or None, "s3:max-keys": str(max_keys)}
    bucket = bucket_for(ctx, "s3:ListBucket", params["Bucket"], condition)
    encode = _encoder(params)
    base: dict[str, Any] = {"Name": bucket.name, "Prefix": encode(prefix), "MaxKeys": max_keys}
    if delimiter:
        base["Delimiter"] = encode(delimiter)
    if params.get("EncodingType"):
        base["EncodingType"] = params["EncodingType"]
    if max_keys == 0:
        return None, base, encode
    listing = selectors.object_list(bucket=bucket, prefix=prefix, delimiter=delimiter, cursor=cursor, limit=max_keys, start_after=start_after)
    return listing, base, encode


def _contents(listing: Any, encode: Any, with_owner: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if listing is None:
        return out
    contents = []
    for obj in listing.objects:
        entry: dict[str, Any] = {"Key": encode(obj.key), "LastModified": obj.last_modified, "ETag": f'"{obj.etag}"', "Size": obj.size, "StorageClass": "STANDARD"}
        if with_owner:
            entry["Owner"] = owner()
        contents.append(entry)
    if contents:
        out["Contents"] = contents
    if listing.common_prefixes:
        out["CommonPrefixes"] = [{"Prefix": encode(p)} for p in listing.common_prefixes]
    return out


@operation("s3", "ListObjects")
def list_objects(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    marker = params.get("Marker", "")
    listing, result, encode = _list(ctx, params, cursor=None, start_after=marker)
    result.update({"Marker": encode(marker), "IsTruncated": bool(listing and listing.is_truncated)})
    result.update(_contents(listing, encode, with_owner=True))
    if listing is not None and listing.is_truncated and params.get("Delimiter"):
        last = max([o.key for o in listing.objects[-1:]] + listing.common_prefixes[-1:])
        result["NextMarker"] = encode(last)
    return result


@operation("s3", "ListObjectsV2")
def list_objects_v2(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    token = params.get("ContinuationToken")
    if token == "":
        raise AwsError("InvalidArgument", "The continuation token provided is incorrect", fields={"ArgumentName": "continuation-token"})
    listing, result, encode = _list(ctx, params, cursor=token, start_after=params.get("StartAfter", ""))
    result.update(_contents(listing, encode, with_owner=bool(params.get("FetchOwner"))))
    result["IsTruncated"] = bool(listing and listing.is_truncated)
    result["KeyCount"] = len(listing.objects) + len(listing.common_prefixes) if listing else 0
    if token:
        result["ContinuationToken"] = token
    if params.get("StartAfter"):
        result["StartAfter"] = encode(params["StartAfter"])
    if listing is not None and listing.next_cursor:
        result["NextContinuationToken"] = listing.next_cursor
    return result
