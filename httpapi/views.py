"""Invoke URLs: ``/gw/{api_id}/{stage?}/{path}`` and ``/url/{url_id}/{path}``. No session, no CSRF:
callers are clients of the API, not of the console."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from httpapi import gateway


@csrf_exempt
def api_invoke(request: HttpRequest, api_id: str, path: str | None = None) -> HttpResponse:
    return gateway.serve_api(request, api_id, path or "/")


@csrf_exempt
def function_url_invoke(request: HttpRequest, url_id: str, path: str | None = None) -> HttpResponse:
    return gateway.serve_function_url(request, url_id, path or "/")
