"""REST API for bucket notifications and the invocations a bucket's objects triggered. Thin."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events import selectors, services
from events.models import BucketNotification
from invoker.api import InvocationSummary, NewestFirst
from storage.selectors import access_bucket_by_name


def notification_data(config: BucketNotification) -> dict[str, Any]:
    return {"id": config.config_id, "events": config.events, "filter": {"prefix": config.prefix, "suffix": config.suffix}, "function": config.function.name}


NOTIFICATIONS_SCHEMA = {"type": "array", "items": {"type": "object"}}  # [{"id", "events", "filter", "function"}]


class BucketNotificationsView(APIView):
    permission_model = "events.bucketnotification"  # restapi/permissions.py

    @extend_schema(summary="A bucket's notification configurations", responses={200: NOTIFICATIONS_SCHEMA})
    def get(self, request: Request, name: str) -> Response:
        bucket = access_bucket_by_name(request.user, name)
        return Response([notification_data(c) for c in selectors.bucket_notifications(bucket)])

    @extend_schema(summary="Replace a bucket's notification configurations", request={"application/json": NOTIFICATIONS_SCHEMA}, responses={200: NOTIFICATIONS_SCHEMA})
    def put(self, request: Request, name: str) -> Response:
        bucket = access_bucket_by_name(request.user, name)
        services.bucket_notifications_put(user=request.user, bucket=bucket, configurations=request.data)
        return Response([notification_data(c) for c in selectors.bucket_notifications(bucket)])


class BucketInvocationsView(APIView):
    permissions_for = {"GET": ("invoker.view_invocation",)}  # restapi/permissions.py

    @extend_schema(parameters=[OpenApiParameter("key", str), OpenApiParameter("cursor", str), OpenApiParameter("limit", int)],
                   summary="Invocations triggered by a bucket's objects (optionally one key), newest first", responses={200: dict})
    def get(self, request: Request, name: str) -> Response:
        bucket = access_bucket_by_name(request.user, name)
        queryset = selectors.bucket_invocations(bucket, key=request.query_params.get("key"))
        paginator = NewestFirst()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(InvocationSummary(page, many=True).data)
