"""Routes of the triggers REST API, included under ``/api/v1/``."""

from django.urls import path

from events import api

urlpatterns = [
    path("buckets/<str:name>/notifications/", api.BucketNotificationsView.as_view(), name="api-bucket-notifications"),
    path("buckets/<str:name>/invocations/", api.BucketInvocationsView.as_view(), name="api-bucket-invocations"),
]
