"""REST routes for HTTP APIs and function URLs (included under ``/api/v1/`` by ``console/api_urls.py``)."""

from django.urls import path

from httpapi import api

urlpatterns = [
    path("http-apis/", api.HttpApiListView.as_view(), name="api-http-apis"),
    path("http-apis/<str:api_id>/", api.HttpApiDetailView.as_view(), name="api-http-api"),
    path("http-apis/<str:api_id>/routes/", api.RouteListView.as_view(), name="api-http-api-routes"),
    path("http-apis/<str:api_id>/routes/<str:route_id>/", api.RouteDetailView.as_view(), name="api-http-api-route"),
    path("http-apis/<str:api_id>/stages/", api.StageListView.as_view(), name="api-http-api-stages"),
    path("http-apis/<str:api_id>/stages/<str:stage_name>/", api.StageDetailView.as_view(), name="api-http-api-stage"),
    path("functions/<str:name>/url/", api.FunctionUrlView.as_view(), name="api-function-url"),
]
