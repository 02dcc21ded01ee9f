"""Routes of metrics under ``/api/v1/``."""

from django.urls import path

from metrics import api

urlpatterns = [
    path("metrics/", api.MetricSeriesView.as_view(), name="api-metrics"),
    path("usage/", api.UsageView.as_view(), name="api-usage"),
]
