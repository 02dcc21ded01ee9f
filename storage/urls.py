"""Routes of the storage REST API, included under ``/api/v1/``."""

from django.urls import path

from storage import api

urlpatterns = [
    path("buckets/", api.BucketListView.as_view(), name="api-buckets"),
    path("buckets/<str:name>/", api.BucketDetailView.as_view(), name="api-bucket"),
    path("buckets/<str:name>/objects/", api.ObjectListView.as_view(), name="api-objects"),
    path("buckets/<str:name>/objects/<path:key>", api.ObjectDetailView.as_view(), name="api-object"),
]
