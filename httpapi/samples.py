"""Sample API Gateway events (payload 1.0 and 2.0) for test-event templates, built by the same code
that builds the real ones (``httpapi.events``) from a request made up here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from httpapi import events

SAMPLE_API_ID = "abcdef1234"


def _request() -> HttpRequest:
    request = HttpRequest()
    request.method = "POST"
    request.path = "/items/42"
    request.META = {
        "HTTP_HOST": f"{SAMPLE_API_ID}.execute-api.localhost:{settings.KILN_PORT}", "HTTP_USER_AGENT": "curl/8.5.0", "HTTP_ACCEPT": "*/*",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "25", "QUERY_STRING": "verbose=1", "REMOTE_ADDR": "203.0.113.7",
        "SERVER_PORT": str(settings.KILN_PORT), "SERVER_PROTOCOL": "HTTP/1.1",
    }
    request._body = b'{"name": "a kiln-fired mug"}'
    return request


def _info(route_key: str, resource: str) -> events.RequestInfo:
    return events.RequestInfo(api_id=SAMPLE_API_ID, domain_name=f"{SAMPLE_API_ID}.execute-api.localhost", stage="$default", route_key=route_key,
                              resource_path=resource, raw_path="/items/42", path_parameters={"id": "42"})


def sample_event_v1() -> dict[str, Any]:
    return events.event_v1(_request(), _info("POST /items/{id}", "/items/{id}"))


def sample_event_v2() -> dict[str, Any]:
    return events.event_v2(_request(), _info("POST /items/{id}", "/items/{id}"))
