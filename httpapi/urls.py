"""Invoke URLs of HTTP APIs and function URLs (included at the root by ``console/urls.py``)."""

from django.urls import re_path

from httpapi import views

urlpatterns = [
    re_path(r"^gw/(?P<api_id>[a-z0-9]{10})(?P<path>/.*)?$", views.api_invoke, name="httpapi-invoke"),
    re_path(r"^url/(?P<url_id>[a-z0-9]{32})(?P<path>/.*)?$", views.function_url_invoke, name="function-url-invoke"),
]
