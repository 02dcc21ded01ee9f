"""Root URLs: the console (admin site), the REST API, its schema, and /healthz."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from console.api_views import api_not_found
from console.health import healthz
from metrics.api import prometheus_metrics
from topics import views as topic_views
from topics.signing import CERT_PATH

urlpatterns = [
    path("", topic_views.root),  # the console, or SNS's unsigned SubscribeURL / UnsubscribeURL (topics/views.py)
    path(CERT_PATH.lstrip("/"), topic_views.certificate, name="sns-certificate"),
    path("console/", admin.site.urls),
    path("api/v1/", include("console.api_urls")),
    re_path(r"^api/v1/", api_not_found),  # anything else under the API answers the JSON envelope, not Django's HTML 404
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the page's CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("metrics", prometheus_metrics, name="prometheus-metrics"),
    path("", include("httpapi.urls")),
]
