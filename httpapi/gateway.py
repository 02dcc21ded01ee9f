"""Serving a request through an HTTP API or a function URL: choose the stage and route, build the
event, invoke synchronously, map the result; every failure is API Gateway's own answer.
"""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse

from core.errors import KilnError, TooLarge
from functions.limits import SYNC_PAYLOAD_MAX_BYTES
from functions.models import Function
from functions.versions import function_policy_allows
from httpapi import cors as cors_rules
from httpapi import events, responses, selectors
from httpapi.models import DEFAULT_ROUTE, DEFAULT_STAGE, AuthType
from httpapi.routing import route_match, split_path
from iam.selectors import principal_authorize
from invoker.calls import invocation_call
from invoker.models import Invocation, InvocationStatus, Trigger

log = logging.getLogger(__name__)

INTEGRATION_TIMEOUT_MAX_S = 30
# How long past the integration timeout the gateway waits for a worker to record the outcome.
WAIT_MARGIN_S = 5.0
API_DOMAIN_SUFFIX = "execute-api.localhost"
URL_DOMAIN_SUFFIX = "lambda-url.localhost"


def integration_timeout(function: Function) -> int:
    assert function.latest is not None
    return min(INTEGRATION_TIMEOUT_MAX_S, function.latest.timeout)


def _too_large(request: HttpRequest) -> bool:
    return int(request.META.get("CONTENT_LENGTH") or 0) > SYNC_PAYLOAD_MAX_BYTES


def serve_api(request: HttpRequest, api_id: str, path: str) -> HttpResponse:
    """``path`` is what follows the API (``/gw/{id}`` or the host name), a named stage's prefix included."""
    api = selectors.http_api_for_serving(api_id)
    if api is None:
        return responses.gateway_error(404, "Not Found")
    path = path or "/"
    stages = {stage.name: stage for stage in api.stages.all()}
    segments = split_path(path)
    if segments and segments[0] != DEFAULT_STAGE and segments[0] in stages:
        stage = stages[segments[0]]
        route_path = "/" + "/".join(segments[1:])
    elif DEFAULT_STAGE in stages:
        stage, route_path = stages[DEFAULT_STAGE], path
    else:
        return responses.gateway_error(404, "Not Found")
    if cors_rules.is_preflight(request, api.cors):
        return cors_rules.preflight_response(request, api.cors or {})
    match = route_match(api.routes.all(), request.method or "GET", route_path)
    if match is None:
        return cors_rules.add_cors_headers(request, responses.gateway_error(404, "Not Found"), api.cors)
    if _too_large(request):
        return cors_rules.add_cors_headers(request, responses.gateway_error(413, "Request Entity Too Large"), api.cors)
    route = match.route
    info = events.RequestInfo(
        api_id=api.id,
        domain_name=f"{api.id}.{API_DOMAIN_SUFFIX}",
        stage=stage.name,
        route_key=route.route_key,
        resource_path=route.path or DEFAULT_ROUTE,
        raw_path=events.raw_path_of(path),
        path_parameters=match.path_parameters,
        stage_variables=stage.variables or {},
    )
    version = route.payload_format_version
    event = events.event_v1(request, info) if version == "1.0" else events.event_v2(request, info)
    detail = {"route_key": route.route_key, "method": request.method, "path": path, "source_ip": events.source_ip(request), "api_id": api.id, "stage": stage.name}
    response = _invoke(route.function, event, version, detail)
    response["Apigw-Requestid"] = info.request_id
    return cors_rules.add_cors_headers(request, response, api.cors)


def serve_function_url(request: HttpRequest, url_id: str, path: str) -> HttpResponse:
    url = selectors.function_url_for_serving(url_id)
    if url is None:
        return responses.gateway_error(404, "Not Found")
    if cors_rules.is_preflight(request, url.cors):
        return cors_rules.preflight_response(request, url.cors or {})
    if url.auth_type == AuthType.AWS_IAM and not _url_call_allowed(request, url.function):
        return cors_rules.add_cors_headers(request, HttpResponse(json.dumps({"Message": "Forbidden"}), status=403, content_type="application/json"), url.cors)
    if _too_large(request):
        return cors_rules.add_cors_headers(request, responses.gateway_error(413, "Request Entity Too Large"), url.cors)
    path = path or "/"
    info = events.RequestInfo(
        api_id=url.url_id, domain_name=f"{url.url_id}.{URL_DOMAIN_SUFFIX}", stage=DEFAULT_STAGE, route_key=DEFAULT_ROUTE,
        resource_path=DEFAULT_ROUTE, raw_path=events.raw_path_of(path),
    )
    event = events.event_v2(request, info)
    detail = {"route_key": DEFAULT_ROUTE, "method": request.method, "path": path, "source_ip": events.source_ip(request), "url_id": url.url_id}
    response = _invoke(url.function, event, "2.0", detail)
    response["X-Amzn-Requestid"] = info.request_id
    return cors_rules.add_cors_headers(request, response, url.cors)


def _url_call_allowed(request: HttpRequest, function: Function) -> bool:
    """An ``AWS_IAM`` function URL: the call must be SigV4-signed (verified by ``aws.router``, which sets
    ``request.aws_principal``) by a principal whose identity policies, or the function's resource policy,
    allow ``lambda:InvokeFunctionUrl`` on the function."""
    principal = getattr(request, "aws_principal", None)
    if principal is None:
        return False
    context = {"lambda:FunctionUrlAuthType": "AWS_IAM"}
    decision = principal_authorize(principal, action="lambda:InvokeFunctionUrl", resource=function.arn, context=context)
    if decision.allowed:
        return True
    return decision.decision != "explicitDeny" and function_policy_allows(function, principal, action="lambda:InvokeFunctionUrl", resource=function.arn, context=context)


def _invoke(function: Function, event: dict, version: str, detail: dict) -> HttpResponse:
    if function.latest is None:
        return responses.internal_error()
    try:
        invocation = invocation_call(function=function, payload=json.dumps(event).encode(), trigger=Trigger.HTTP, trigger_detail=detail,
                                     timeout_s=integration_timeout(function) + WAIT_MARGIN_S)
    except TooLarge:
        return responses.gateway_error(413, "Request Entity Too Large")
    except KilnError:
        return responses.internal_error()
    response = response_for(invocation, version)
    response["X-Kiln-Request-Id"] = str(invocation.id)
    return response


def response_for(invocation: Invocation, version: str) -> HttpResponse:
    """The client's answer for a finished (or abandoned) invocation."""
    if invocation.status == InvocationStatus.THROTTLED:
        return responses.gateway_error(429, "Too Many Requests")
    if invocation.status == InvocationStatus.TIMED_OUT or not invocation.is_final:
        return responses.gateway_error(504, "Endpoint request timed out")
    if invocation.status != InvocationStatus.SUCCEEDED:
        return responses.internal_error()
    try:
        return responses.map_result(invocation.result, version)
    except responses.MalformedResponse:
        return responses.internal_error()
