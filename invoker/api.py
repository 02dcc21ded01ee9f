"""REST API for invoking functions and reading invocation history. Thin: parse, call a service, render."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvocationTimeout, ServiceUnavailable, Throttled, TooLarge, ValidationFailed
from core.generations import generations_read
from functions.limits import ASYNC_PAYLOAD_MAX_BYTES, SYNC_PAYLOAD_MAX_BYTES
from functions.selectors import function_for_invoke
from functions.versions import qualified_resolve
from invoker import selectors, submit
from invoker.calls import WORKER_LOST, invocation_call
from invoker.models import Invocation, InvocationStatus, InvocationType, Trigger


def _json_or_text(value: str | None) -> Any:
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


class InvocationSummary(serializers.ModelSerializer):
    request_id = serializers.UUIDField(source="id")
    function = serializers.CharField(source="function_name")
    trigger = serializers.SerializerMethodField()
    parent_request_id = serializers.SerializerMethodField()

    class Meta:
        model = Invocation
        fields = ["request_id", "function", "qualifier", "executed_version", "invocation_type", "status", "trigger", "queued_at", "started_at", "finished_at",
                  "duration_ms", "billed_duration_ms", "init_duration_ms", "cold_start", "memory_size", "max_memory_used_mb", "attempt", "retries", "error",
                  "parent_request_id"]

    def get_trigger(self, obj: Invocation) -> dict[str, Any]:
        return {"type": obj.trigger, **(obj.trigger_detail or {})}

    def get_parent_request_id(self, obj: Invocation) -> str | None:
        return str(obj.parent_id) if obj.parent_id else None


class InvocationDetail(InvocationSummary):
    result = serializers.SerializerMethodField()
    payload = serializers.SerializerMethodField()
    logs = serializers.CharField()

    class Meta(InvocationSummary.Meta):
        fields = InvocationSummary.Meta.fields + ["payload", "result", "logs"]

    def get_result(self, obj: Invocation) -> Any:
        return _json_or_text(obj.result)

    def get_payload(self, obj: Invocation) -> Any:
        return _json_or_text(obj.payload)


def invocation_data(invocation: Invocation) -> dict[str, Any]:
    return InvocationDetail(invocation).data


def invocation_data_with_lineage(invocation: Invocation) -> dict[str, Any]:
    """The detail, plus ``cause`` (what started it: the trigger's detail and the parent invocation)
    and ``caused`` (the invocations its run started)."""
    data = dict(invocation_data(invocation))
    parent, children = selectors.invocation_lineage(invocation)
    data["cause"] = {"type": invocation.trigger, **(invocation.trigger_detail or {}), "parent": parent}
    data["caused"] = children
    return data


class NewestFirst(CursorPagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "limit"
    ordering = ("-queued_at", "-id")


class InvocationListView(APIView):
    permission_model = "invoker.invocation"  # restapi/permissions.py

    @extend_schema(
        parameters=[OpenApiParameter("function", str), OpenApiParameter("status", str, enum=InvocationStatus.values), OpenApiParameter("trigger", str), OpenApiParameter("bucket", str),
                    OpenApiParameter("since", str, description="ISO-8601, inclusive"), OpenApiParameter("until", str, description="ISO-8601, exclusive"),
                    OpenApiParameter("request_id", str, description="a request id or its start"), OpenApiParameter("cursor", str), OpenApiParameter("limit", int)],
        responses={200: inline_serializer("InvocationPage", {"next": serializers.URLField(allow_null=True, help_text="the next page (older), or null"),
                                                             "previous": serializers.URLField(allow_null=True, help_text="the previous page, or null"),
                                                             "results": InvocationSummary(many=True)})},
        summary="List invocations, newest first (cursor pages)", operation_id="v1_invocations_list",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        queryset = selectors.invocation_list(request.user, function=params.get("function"), status=params.get("status"), trigger=params.get("trigger"), bucket=params.get("bucket"),
                                             since=params.get("since"), until=params.get("until"), request_id=params.get("request_id"))
        paginator = NewestFirst()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(InvocationSummary(page, many=True).data)


class InvocationDetailView(APIView):
    permission_model = "invoker.invocation"  # restapi/permissions.py

    @extend_schema(responses={200: InvocationDetail}, summary="Get an invocation with its result, logs, cause and the invocations it caused")
    def get(self, request: Request, request_id: str) -> Response:
        return Response(invocation_data_with_lineage(selectors.access_invocation(request.user, request_id)))


class InvocationReplayView(APIView):
    permissions_for = {"POST": ("functions.invoke_function",)}  # restapi/permissions.py

    @extend_schema(request=dict, responses={202: dict}, summary='Run an invocation\'s event again: {"qualifier": "$LATEST" | "original"}')
    def post(self, request: Request, request_id: str) -> Response:
        original = selectors.access_invocation(request.user, request_id)
        body = request.data if isinstance(request.data, dict) else {}
        qualifier = body.get("qualifier", "$LATEST")
        replay = submit.invocation_replay(original=original, qualifier=qualifier, user=request.user)
        return Response({"request_id": str(replay.id), "status": replay.status, "replay_of": str(original.id), "qualifier": qualifier,
                         "revision": replay.revision.number if replay.revision else None}, status=202)


class InvokeView(APIView):
    """``POST /api/v1/functions/{name}/invoke/``: the body is the event."""
    permissions_for = {"POST": ("functions.invoke_function",)}  # restapi/permissions.py

    request_id: str = ""

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        with generations_read():  # the token's and the function's caches: one Redis round trip for both
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.request_id = str(uuid.uuid4())
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["X-Kiln-Request-Id"] = self.request_id or str(uuid.uuid4())
        return response

    @extend_schema(
        request={"application/json": dict},
        parameters=[OpenApiParameter("invocation_type", str, enum=InvocationType.values), OpenApiParameter("log_type", str, enum=["None", "Tail"]),
                    OpenApiParameter("qualifier", str, description="$LATEST (default), a version number or an alias")],
        responses={200: dict, 202: dict},
        summary="Invoke a function (synchronously by default)",
    )
    def post(self, request: Request, name: str) -> Any:
        invocation_type = request.query_params.get("invocation_type", InvocationType.REQUEST_RESPONSE)
        if invocation_type not in InvocationType.values:
            raise ValidationFailed(f"invocation_type must be RequestResponse or Event, not {invocation_type!r}.", details={"field": "invocation_type"})
        log_type = request.query_params.get("log_type", "None")
        if log_type not in ("None", "Tail"):
            raise ValidationFailed(f"log_type must be None or Tail, not {log_type!r}.", details={"field": "log_type"})
        limit = SYNC_PAYLOAD_MAX_BYTES if invocation_type == InvocationType.REQUEST_RESPONSE else ASYNC_PAYLOAD_MAX_BYTES
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > limit:
            raise TooLarge(f"Request payload is {declared} bytes; {invocation_type} invocations accept at most {limit} bytes.", details={"size": declared, "limit": limit})
        function = function_for_invoke(request.user, name)
        qualifier = request.query_params.get("qualifier") or "$LATEST"
        revision, version = function.latest, "$LATEST"
        if qualifier != "$LATEST":  # a version or an alias (the hot path, $LATEST, needs no second lookup)
            resolved = qualified_resolve(function.name, qualifier)
            revision, version = resolved.revision, resolved.version
        assert revision is not None
        if invocation_type == InvocationType.EVENT:
            invocation = submit.invocation_submit(function=function, payload=request.body, invocation_type=invocation_type, trigger=Trigger.API, request_id=self.request_id,
                                                    user=request.user, revision=revision, qualifier=qualifier, executed_version=version)
            return Response({"request_id": self.request_id, "status": invocation.status}, status=202)
        invocation = invocation_call(function=function, payload=request.body, trigger=Trigger.API, request_id=self.request_id, user=request.user,
                                     revision=revision, qualifier=qualifier, executed_version=version, with_logs=log_type == "Tail")
        return sync_response(invocation, tail=log_type == "Tail")


def sync_response(invocation: Invocation, *, tail: bool = False) -> HttpResponse:
    """The answer to a synchronous invoke, as Lambda's Invoke gives it."""
    if invocation.status == InvocationStatus.THROTTLED:
        error = invocation.error or {}
        raise Throttled(error.get("errorMessage", "Rate Exceeded."), details={"reason": error.get("Reason", "")})
    if invocation.status == InvocationStatus.FAILED and (invocation.error or {}).get("errorType") == WORKER_LOST:
        raise ServiceUnavailable(f"Invocation {invocation.id} did not finish: {(invocation.error or {}).get('errorMessage', '')}", details={"request_id": str(invocation.id)})
    if not invocation.is_final:
        raise InvocationTimeout(
            f"No worker finished invocation {invocation.id} in time; it is {invocation.status}. Read GET /api/v1/invocations/{invocation.id}/ for its outcome.",
            details={"request_id": str(invocation.id), "status": invocation.status},
        )
    response = HttpResponse(invocation.result if invocation.result is not None else "null", content_type="application/json", status=200)
    if invocation.status != InvocationStatus.SUCCEEDED:
        response["X-Kiln-Function-Error"] = "Unhandled"
    response["X-Kiln-Executed-Version"] = invocation.executed_version
    response["X-Kiln-Status"] = invocation.status
    if tail:
        response["X-Kiln-Log-Result"] = base64.b64encode(invocation.logs.encode()[-4096:]).decode()
    return response

