"""REST API of metrics (``/api/v1/metrics/``) and usage (``/api/v1/usage/``), and the Prometheus
``/metrics`` endpoint. Thin: parse, call a selector, render."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from functions.selectors import access_function_by_name
from metrics import prom, selectors


class MetricSeriesView(APIView):
    permissions_for = {"GET": ("metrics.view_metricminute",)}  # restapi/permissions.py

    @extend_schema(
        parameters=[OpenApiParameter("metric", str, enum=list(selectors.METRICS), required=True), OpenApiParameter("function", str),
                    OpenApiParameter("period", int, description="seconds, a multiple of 60"), OpenApiParameter("start", str), OpenApiParameter("end", str),
                    OpenApiParameter("stat", str, description="Sum, Average, Maximum, SampleCount, or pNN for Duration")],
        responses={200: dict},
        summary="A metric's series from the per-minute roll-ups (CloudWatch's Lambda metric names)",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        name = params.get("function") or None
        if name:
            name = access_function_by_name(request.user, name).name
        return Response(selectors.metric_series(metric=params.get("metric"), function_name=name, period=params.get("period"),
                                                start=params.get("start"), end=params.get("end"), stat=params.get("stat")))


class UsageView(APIView):
    permissions_for = {"GET": ("metrics.view_usageday",)}  # restapi/permissions.py

    @extend_schema(parameters=[OpenApiParameter("month", str, description="YYYY-MM; default: this month")], responses={200: dict},
                   summary="A month's requests, GB-seconds and cost under Lambda's pricing")
    def get(self, request: Request) -> Response:
        return Response(selectors.usage_month(month=request.query_params.get("month")))


def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: counters and histograms in Prometheus' text format. Open unless
    ``KILN_PROMETHEUS_TOKEN`` is set; then it wants ``Authorization: Bearer <token>``."""
    token = settings.KILN_PROMETHEUS_TOKEN
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return HttpResponse("unauthorized\n", status=401, content_type="text/plain", headers={"WWW-Authenticate": "Bearer"})
    return HttpResponse(prom.prom_exposition(), content_type=prom.CONTENT_TYPE)
