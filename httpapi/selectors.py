"""Reads of HTTP APIs and function URLs: for the management API (through access checks) and for serving."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from core.errors import NotFound
from core.generations import GenerationCache
from functions.models import Function
from httpapi.models import FunctionUrl, HttpApi, Route, Stage


def http_api_list(user: AbstractBaseUser | AnonymousUser) -> QuerySet[HttpApi]:
    if not user.is_authenticated:
        return HttpApi.objects.none()
    return HttpApi.objects.prefetch_related("stages", Prefetch("routes", queryset=Route.objects.select_related("function")))


def access_http_api(user: AbstractBaseUser | AnonymousUser, api_id: str) -> HttpApi:
    """The API ``api_id`` if ``user`` may manage it, else ``NotFound``."""
    api = http_api_list(user).filter(pk=api_id).first()
    if api is None:
        raise NotFound(f"HTTP API not found: {api_id}")
    return api


def access_route(user: AbstractBaseUser | AnonymousUser, api: HttpApi, route_id: int | str) -> Route:
    route = Route.objects.select_related("function").filter(api=api, pk=route_id).first() if str(route_id).isdigit() else None
    if route is None:
        raise NotFound(f"Route not found: {route_id}")
    return route


def access_stage(user: AbstractBaseUser | AnonymousUser, api: HttpApi, name: str) -> Stage:
    stage = Stage.objects.filter(api=api, name=name).first()
    if stage is None:
        raise NotFound(f"Stage not found: {name}")
    return stage


def access_function_url(user: AbstractBaseUser | AnonymousUser, function: Function) -> FunctionUrl:
    url = FunctionUrl.objects.filter(function=function).first()
    if url is None:
        raise NotFound(f"The function {function.name} has no URL.")
    return url


# What every request to a route or a function URL reads, cached per process and invalidated by any write to an
# API, a stage, a route, a URL, a function or a revision (httpapi/apps.py). Callers only read what they get.
SERVING: GenerationCache[Any] = GenerationCache("http-serving", ttl_s=30.0)


def http_api_for_serving(api_id: str) -> HttpApi | None:
    """The API with its stages and routes (and their functions' $LATEST): three queries, once per change."""
    return SERVING.get(("api", api_id), lambda: (
        HttpApi.objects.prefetch_related("stages", Prefetch("routes", queryset=Route.objects.select_related("function", "function__latest")))
        .filter(pk=api_id)
        .first()
    ), cacheable=lambda api: api is not None)


def function_url_for_serving(url_id: str) -> FunctionUrl | None:
    return SERVING.get(("url", url_id), lambda: FunctionUrl.objects.select_related("function", "function__latest").filter(pk=url_id).first(),
                       cacheable=lambda url: url is not None)
