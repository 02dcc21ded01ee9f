"""Routes of saved test events and event templates under ``/api/v1/``."""

from django.urls import path

from functions import api

urlpatterns = [
    path("functions/<str:name>/test-events/", api.TestEventListView.as_view(), name="api-function-test-events"),
    path("functions/<str:name>/test-events/<str:event_name>/", api.TestEventDetailView.as_view(), name="api-function-test-event"),
    path("code/<str:token>/", api.CodeDownloadView.as_view(), name="api-function-code-download"),
    path("layer-content/<str:token>/", api.CodeDownloadView.as_view(), name="api-layer-content-download"),
    path("test-event-templates/", api.EventTemplateListView.as_view(), name="api-test-event-templates"),
]
