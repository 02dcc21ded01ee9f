"""Host-name routing: ``{api_id}.execute-api.localhost`` and ``{url_id}.lambda-url.localhost`` are served
by the gateway whatever the path, before sessions, CSRF or the URL resolver see the request."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

from httpapi import gateway

_API_HOST = re.compile(r"^([a-z0-9]{10})\.execute-api\.localhost$")
_URL_HOST = re.compile(r"^([a-z0-9]{32})\.lambda-url\.localhost$")


class GatewayHostMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            host = request.get_host().rsplit(":", 1)[0].lower() if request.get_host() else ""
        except DisallowedHost:
            return self.get_response(request)
        if host.endswith(".localhost"):
            if match := _API_HOST.match(host):
                return gateway.serve_api(request, match.group(1), request.path_info)
            if match := _URL_HOST.match(host):
                return gateway.serve_function_url(request, match.group(1), request.path_info)
        return self.get_response(request)
