"""REST API for buckets and objects. Thin: parse, call a service or selector, render.

Object bodies are streamed both ways: ``PUT`` reads the raw request stream in chunks (never
``request.body``), downloads are ``FileResponse`` / a ranged generator over the open body.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from restapi.bodies import json_object
from restapi.errors import error_envelope
from storage import limits, selectors, services
from storage.blobs import blob_range
from storage.domain import RequestInfo
from storage.errors import InvalidArgument
from storage.models import Bucket, Object

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_META_PREFIXES = ("HTTP_X_AMZ_META_", "HTTP_X_KILN_META_")


class BucketSerializer(serializers.ModelSerializer):
    arn = serializers.CharField(read_only=True)

    class Meta:
        model = Bucket
        fields = ["name", "arn", "created_at"]


class ObjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Object
        fields = ["key", "size", "etag", "content_type", "metadata", "last_modified", "sequencer"]


class BucketCreate(serializers.Serializer):
    name = serializers.CharField(max_length=255, trim_whitespace=False)


def request_info(request: Request) -> RequestInfo:
    user = request.user
    return RequestInfo(principal_id=f"KILN:{user.get_username()}" if user.is_authenticated else "anonymous",
                       source_ip=request.META.get("REMOTE_ADDR") or "127.0.0.1", request_id=uuid.uuid4().hex[:16].upper())


def metadata_from_headers(meta: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in meta.items():
        for prefix in _META_PREFIXES:
            if name.startswith(prefix) and len(name) > len(prefix):
                found[name[len(prefix):].lower().replace("_", "-")] = str(value)
    return found


def object_headers(obj: Object) -> dict[str, str]:
    headers = {"ETag": f'"{obj.etag}"', "Last-Modified": http_date(obj.last_modified.timestamp()), "Accept-Ranges": "bytes",
               "Content-Type": obj.content_type, "x-amz-version-id": "null"}
    headers.update({f"x-amz-meta-{k}": v for k, v in obj.metadata.items()})
    return headers


class BucketListView(APIView):
    permission_model = "storage.bucket"  # restapi/permissions.py

    @extend_schema(responses={200: inline_serializer("BucketList", {"buckets": BucketSerializer(many=True)})}, summary="List buckets", operation_id="v1_buckets_list")
    def get(self, request: Request) -> Response:
        return Response({"buckets": BucketSerializer(selectors.bucket_list(request.user), many=True).data})

    @extend_schema(request=BucketCreate, responses={201: BucketSerializer}, summary="Create a bucket")
    def post(self, request: Request) -> Response:
        data = BucketCreate(data=json_object(request.data, allowed=("name",)))
        data.is_valid(raise_exception=True)
        bucket = services.bucket_create(name=data.validated_data["name"], owner=request.user)
        return Response(BucketSerializer(bucket).data, status=201)


class BucketDetailView(APIView):
    permission_model = "storage.bucket"  # restapi/permissions.py

    @extend_schema(responses={200: BucketSerializer}, summary="Get a bucket")
    def get(self, request: Request, name: str) -> Response:
        return Response(BucketSerializer(selectors.access_bucket_by_name(request.user, name)).data)

    @extend_schema(responses={204: None}, summary="Delete an empty bucket (409 BucketNotEmpty otherwise)")
    def delete(self, request: Request, name: str) -> Response:
        services.bucket_delete(bucket=selectors.access_bucket_by_name(request.user, name))
        return Response(status=204)


class ObjectListView(APIView):
    permission_model = "storage.object"  # restapi/permissions.py

    @extend_schema(
        parameters=[OpenApiParameter("prefix", str), OpenApiParameter("delimiter", str), OpenApiParameter("cursor", str), OpenApiParameter("limit", int)],
        summary="List objects, with common prefixes when a delimiter is given", responses={200: dict}, operation_id="v1_buckets_objects_list",
    )
    def get(self, request: Request, name: str) -> Response:
        bucket = selectors.access_bucket_by_name(request.user, name)
        params = request.query_params
        try:
            limit = int(params.get("limit", limits.LIST_MAX_KEYS))
        except ValueError:
            raise InvalidArgument("limit must be an integer.") from None
        prefix, delimiter = params.get("prefix", ""), params.get("delimiter", "")
        listing = selectors.object_list(bucket=bucket, prefix=prefix, delimiter=delimiter, cursor=params.get("cursor") or None, limit=limit)
        return Response({"bucket": bucket.name, "prefix": prefix, "delimiter": delimiter, "objects": ObjectSerializer(listing.objects, many=True).data,
                         "common_prefixes": listing.common_prefixes, "is_truncated": listing.is_truncated, "next_cursor": listing.next_cursor})

    @extend_schema(summary="Upload several files at once (multipart form: field 'file' repeated, optional 'prefix')", responses={201: ObjectSerializer(many=True)},
                   request={"multipart/form-data": {"type": "object", "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                                                                                     "prefix": {"type": "string"}}}})
    def post(self, request: Request, name: str) -> Response:
        bucket = selectors.access_bucket_by_name(request.user, name)
        files = request.FILES.getlist("file")
        if not files:
            raise InvalidArgument("Send one or more files in the multipart form field 'file'.")
        prefix = str(request.data.get("prefix", ""))
        info = request_info(request)
        created = []
        for upload in files:
            created.append(services.object_put(bucket=bucket, key=prefix + upload.name, body=upload, size=upload.size, content_type=upload.content_type or None,
                                               event_name="ObjectCreated:Post", request=info))
        return Response({"objects": ObjectSerializer(created, many=True).data}, status=201)



def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """``(start, end)`` inclusive, ``None`` for "whole body", or ``"unsatisfiable"``."""
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            return None
        if start >= size:
            return "unsatisfiable"
        return start, end
    suffix = int(last)
    if suffix == 0 or size == 0:
        return "unsatisfiable"
    return max(0, size - suffix), size - 1


class ObjectDetailView(APIView):
    """``/api/v1/buckets/{name}/objects/{key}``: raw PUT, GET (with Range), HEAD, DELETE."""
    permission_model = "storage.object"  # restapi/permissions.py

    parser_classes: list = []  # the body is the object: never parsed, read as a stream

    @extend_schema(request={"application/octet-stream": bytes}, responses={200: ObjectSerializer}, summary="Upload an object (raw body, streamed)")
    def put(self, request: Request, name: str, key: str) -> Response:
        bucket = selectors.access_bucket_by_name(request.user, name)
        raw = request._request  # the WSGI stream, limited to Content-Length; request.body is never touched
        try:
            size = int(raw.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise InvalidArgument("Content-Length must be an integer.") from None
        obj = services.object_put(bucket=bucket, key=key, body=raw, size=size, content_type=raw.META.get("CONTENT_TYPE") or None,
                                  metadata=metadata_from_headers(raw.META), request=request_info(request))
        return Response(ObjectSerializer(obj).data, headers={"ETag": f'"{obj.etag}"'})

    @extend_schema(responses={200: bytes, 206: bytes}, summary="Download an object (Range supported)")
    def get(self, request: Request, name: str, key: str) -> HttpResponse | StreamingHttpResponse:
        bucket = selectors.access_bucket_by_name(request.user, name)
        obj, handle = selectors.object_open(bucket=bucket, key=key)
        wanted = parse_range(request.META.get("HTTP_RANGE", ""), obj.size) if request.META.get("HTTP_RANGE") else None
        if wanted == "unsatisfiable":
            handle.close()
            response: HttpResponse | StreamingHttpResponse = Response(error_envelope("InvalidRange", "The requested range is not satisfiable.", {"size": obj.size}),
                                                                      status=416, headers={"Content-Range": f"bytes */{obj.size}"})
            return response
        if isinstance(wanted, tuple):
            start, end = wanted
            response = StreamingHttpResponse(blob_range(handle, start, end - start + 1), status=206)
            response["Content-Range"] = f"bytes {start}-{end}/{obj.size}"
            response["Content-Length"] = str(end - start + 1)
        else:
            response = FileResponse(handle, content_type=obj.content_type)
            response["Content-Length"] = str(obj.size)
        for header, value in object_headers(obj).items():
            response[header] = value
        return response

    @extend_schema(responses={200: None}, summary="An object's headers")
    def head(self, request: Request, name: str, key: str) -> HttpResponse:
        obj = selectors.object_head(bucket=selectors.access_bucket_by_name(request.user, name), key=key)
        response = HttpResponse(status=200)
        for header, value in object_headers(obj).items():
            response[header] = value
        response["Content-Length"] = str(obj.size)
        return response

    @extend_schema(responses={204: None}, summary="Delete an object")
    def delete(self, request: Request, name: str, key: str) -> Response:
        bucket = selectors.access_bucket_by_name(request.user, name)
        services.object_delete(bucket=bucket, key=key, request=request_info(request))
        return Response(status=204)
