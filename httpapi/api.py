"""REST API for HTTP APIs, their routes and stages, and function URLs. Thin: parse, call a service, render."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ValidationFailed
from functions.selectors import access_function_by_name
from httpapi import selectors, services
from httpapi.models import DEFAULT_STAGE, FunctionUrl, HttpApi, Route, Stage
from restapi.bodies import json_object


def _body(request: Request, *allowed: str) -> dict[str, Any]:
    """The JSON object body with only the ``allowed`` fields (restapi/bodies.py)."""
    return json_object(request.data, allowed=allowed)


def _port_suffix(request: Request) -> str:
    host = request.get_host()
    return ":" + host.rsplit(":", 1)[1] if ":" in host and not host.endswith("]") else ""


def stage_base_url(request: Request, api: HttpApi, stage_name: str) -> str:
    prefix = "" if stage_name == DEFAULT_STAGE else f"/{stage_name}"
    return request.build_absolute_uri(f"/gw/{api.id}{prefix}")


def route_url(request: Request, api: HttpApi, route: Route, stage_name: str) -> str:
    return stage_base_url(request, api, stage_name) + (route.path if route.path else "/")


def route_data(request: Request, api: HttpApi, route: Route, stages: list[Stage]) -> dict[str, Any]:
    names = [s.name for s in stages]
    main = DEFAULT_STAGE if DEFAULT_STAGE in names or not names else names[0]
    return {
        "id": route.pk,
        "route_key": route.route_key,
        "method": route.method or None,
        "path": route.path or None,
        "function": route.function.name,
        "payload_format_version": route.payload_format_version,
        "url": route_url(request, api, route, main),
        "stage_urls": {name: route_url(request, api, route, name) for name in names},
        "created_at": route.created_at,
    }


def stage_data(request: Request, api: HttpApi, stage: Stage) -> dict[str, Any]:
    return {"name": stage.name, "variables": stage.variables, "url": stage_base_url(request, api, stage.name) + "/", "created_at": stage.created_at, "updated_at": stage.updated_at}


def http_api_data(request: Request, api: HttpApi) -> dict[str, Any]:
    stages = list(api.stages.all())
    return {
        "id": api.id,
        "name": api.name,
        "description": api.description,
        "cors": api.cors,
        "api_endpoint": request.build_absolute_uri(f"/gw/{api.id}"),
        "host_endpoint": f"{request.scheme}://{api.id}.execute-api.localhost{_port_suffix(request)}",
        "stages": [stage_data(request, api, s) for s in stages],
        "routes": [route_data(request, api, r, stages) for r in api.routes.all()],
        "created_at": api.created_at,
        "updated_at": api.updated_at,
    }


def function_url_data(request: Request, url: FunctionUrl) -> dict[str, Any]:
    return {
        "url": request.build_absolute_uri(f"/url/{url.url_id}/"),
        "host_url": f"{request.scheme}://{url.url_id}.lambda-url.localhost{_port_suffix(request)}/",
        "url_id": url.url_id,
        "function": url.function.name,
        "auth_type": url.auth_type,
        "cors": url.cors,
        "created_at": url.created_at,
        "updated_at": url.updated_at,
    }


class HttpApiListView(APIView):
    permission_model = "httpapi.httpapi"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="List HTTP APIs", operation_id="http_apis_list")
    def get(self, request: Request) -> Response:
        return Response({"results": [http_api_data(request, api) for api in selectors.http_api_list(request.user)]})

    @extend_schema(request={"application/json": dict}, responses={201: dict}, summary="Create an HTTP API (with its $default stage)")
    def post(self, request: Request) -> Response:
        body = _body(request, "name", "cors", "description")
        api = services.http_api_create(name=body.get("name"), cors=body.get("cors"), description=body.get("description") or "")
        return Response(http_api_data(request, selectors.access_http_api(request.user, api.id)), status=status.HTTP_201_CREATED)


class HttpApiDetailView(APIView):
    permission_model = "httpapi.httpapi"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="Get an HTTP API with its stages and routes")
    def get(self, request: Request, api_id: str) -> Response:
        return Response(http_api_data(request, selectors.access_http_api(request.user, api_id)))

    @extend_schema(request={"application/json": dict}, responses={200: dict}, summary="Change an HTTP API's name, description or CORS")
    def patch(self, request: Request, api_id: str) -> Response:
        api = selectors.access_http_api(request.user, api_id)
        services.http_api_update(api=api, changes=_body(request, "name", "cors", "description"))
        return Response(http_api_data(request, selectors.access_http_api(request.user, api_id)))

    @extend_schema(responses={204: None}, summary="Delete an HTTP API")
    def delete(self, request: Request, api_id: str) -> Response:
        services.http_api_delete(api=selectors.access_http_api(request.user, api_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RouteListView(APIView):
    permission_model = "httpapi.route"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="List an HTTP API's routes", operation_id="http_api_routes_list")
    def get(self, request: Request, api_id: str) -> Response:
        api = selectors.access_http_api(request.user, api_id)
        stages = list(api.stages.all())
        return Response({"results": [route_data(request, api, r, stages) for r in api.routes.all()]})

    @extend_schema(request={"application/json": dict}, responses={201: dict}, summary='Add a route: {"route_key": "GET /users/{id}", "function": NAME}')
    def post(self, request: Request, api_id: str) -> Response:
        api = selectors.access_http_api(request.user, api_id)
        body = _body(request, "route_key", "function", "payload_format_version")
        if not isinstance(body.get("function"), str):
            raise ValidationFailed("function must be the name of a function.", details={"field": "function"})
        function = access_function_by_name(request.user, body["function"])
        route = services.route_create(api=api, route_key=body.get("route_key"), function=function, payload_format_version=body.get("payload_format_version"))
        return Response(route_data(request, api, route, list(api.stages.all())), status=status.HTTP_201_CREATED)


class RouteDetailView(APIView):
    permission_model = "httpapi.route"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="Get a route")
    def get(self, request: Request, api_id: str, route_id: str) -> Response:
        api = selectors.access_http_api(request.user, api_id)
        return Response(route_data(request, api, selectors.access_route(request.user, api, route_id), list(api.stages.all())))

    @extend_schema(responses={204: None}, summary="Delete a route")
    def delete(self, request: Request, api_id: str, route_id: str) -> Response:
        api = selectors.access_http_api(request.user, api_id)
        services.route_delete(route=selectors.access_route(request.user, api, route_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StageListView(APIView):
    permission_model = "httpapi.stage"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="List an HTTP API's stages", operation_id="http_api_stages_list")
    def get(self, request: Request, api_id: str) -> Response:
        api = selectors.access_http_api(request.user, api_id)
        return Response({"results": [stage_data(request, api, s) for s in api.stages.all()]})

    @extend_schema(request={"application/json": dict}, responses={201: dict}, summary='Add a stage: {"name", "variables"}')
    def post(self, request: Request, api_id: str) -> Response:
        api = selectors.access_http_api(request.user, api_id)
        body = _body(request, "name", "variables")
        stage = services.stage_create(api=api, name=body.get("name"), variables=body.get("variables"))
        return Response(stage_data(request, api, stage), status=status.HTTP_201_CREATED)


class StageDetailView(APIView):
    permission_model = "httpapi.stage"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="Get a stage")
    def get(self, request: Request, api_id: str, stage_name: str) -> Response:
        api = selectors.access_http_api(request.user, api_id)
        return Response(stage_data(request, api, selectors.access_stage(request.user, api, stage_name)))

    @extend_schema(request={"application/json": dict}, responses={200: dict}, summary="Replace a stage's variables")
    def patch(self, request: Request, api_id: str, stage_name: str) -> Response:
        api = selectors.access_http_api(request.user, api_id)
        stage = services.stage_update(stage=selectors.access_stage(request.user, api, stage_name), variables=_body(request, "variables").get("variables"))
        return Response(stage_data(request, api, stage))

    @extend_schema(responses={204: None}, summary="Delete a stage")
    def delete(self, request: Request, api_id: str, stage_name: str) -> Response:
        api = selectors.access_http_api(request.user, api_id)
        services.stage_delete(stage=selectors.access_stage(request.user, api, stage_name))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FunctionUrlView(APIView):
    permission_model = "httpapi.functionurl"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="Get a function's URL")
    def get(self, request: Request, name: str) -> Response:
        function = access_function_by_name(request.user, name)
        return Response(function_url_data(request, selectors.access_function_url(request.user, function)))

    @extend_schema(request={"application/json": dict}, responses={200: dict, 201: dict}, summary='Create or replace a function\'s URL: {"auth_type", "cors"}')
    def put(self, request: Request, name: str) -> Response:
        function = access_function_by_name(request.user, name)
        body = _body(request, "auth_type", "cors")
        url, created = services.function_url_put(function=function, auth_type=body.get("auth_type"), cors=body.get("cors"))
        return Response(function_url_data(request, url), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses={204: None}, summary="Delete a function's URL")
    def delete(self, request: Request, name: str) -> Response:
        function = access_function_by_name(request.user, name)
        services.function_url_delete(url=selectors.access_function_url(request.user, function))
        return Response(status=status.HTTP_204_NO_CONTENT)


