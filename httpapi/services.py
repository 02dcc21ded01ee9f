"""Writes for HTTP APIs, stages, routes and function URLs; every rule of a route key lives here."""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from django.db import IntegrityError, transaction

from core.errors import Conflict, ValidationFailed
from functions.models import Function
from httpapi.models import DEFAULT_ROUTE, DEFAULT_STAGE, AuthType, FunctionUrl, HttpApi, PayloadFormat, Route, Stage

API_ID_LENGTH = 10
URL_ID_LENGTH = 32
NAME_MAX = 128
ROUTES_PER_API_MAX = 300
STAGES_PER_API_MAX = 10
STAGE_VARIABLES_MAX = 100
METHODS = ("ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
CORS_MAX_AGE_MAX = 86400
_ALNUM = string.ascii_lowercase + string.digits
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
_SEGMENT_PARAM = re.compile(r"^\{([A-Za-z0-9_.\-]+)(\+?)\}$")
_STATIC_SEGMENT = re.compile(r"^[A-Za-z0-9._~\-:@!$&'()*,;=%]+$")
_CORS_KEYS = {
    "alloworigins": "allowOrigins", "allowmethods": "allowMethods", "allowheaders": "allowHeaders",
    "exposeheaders": "exposeHeaders", "maxage": "maxAge", "allowcredentials": "allowCredentials",
}


def _random_id(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def cors_validate(cors: Any, *, field: str = "cors") -> dict[str, Any] | None:
    """Normalise a CORS configuration (camelCase or Lambda's PascalCase keys) or refuse it."""
    if cors is None or cors == {}:
        return None
    if not isinstance(cors, dict):
        raise ValidationFailed(f"{field} must be an object.", details={"field": field})
    out: dict[str, Any] = {}
    for key, value in cors.items():
        name = _CORS_KEYS.get(str(key).lower())
        if name is None:
            raise ValidationFailed(f"{field}.{key} is not a CORS setting; use {', '.join(_CORS_KEYS.values())}.", details={"field": f"{field}.{key}"})
        if name in ("allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders"):
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ValidationFailed(f"{field}.{name} must be a list of strings.", details={"field": f"{field}.{name}"})
            if name == "allowMethods":
                value = [v.upper() for v in value]
                bad = [v for v in value if v != "*" and v not in METHODS[1:]]
                if bad:
                    raise ValidationFailed(f"{field}.allowMethods has unknown methods: {', '.join(bad)}.", details={"field": f"{field}.allowMethods"})
        elif name == "maxAge":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= CORS_MAX_AGE_MAX:
                raise ValidationFailed(f"{field}.maxAge must be an integer from 0 to {CORS_MAX_AGE_MAX}.", details={"field": f"{field}.maxAge"})
        elif not isinstance(value, bool):
            raise ValidationFailed(f"{field}.allowCredentials must be true or false.", details={"field": f"{field}.allowCredentials"})
        out[name] = value
    if out.get("allowCredentials") and "*" in out.get("allowOrigins", []):
        raise ValidationFailed(f"{field}: allowCredentials cannot be true when allowOrigins contains '*'.", details={"field": f"{field}.allowCredentials"})
    return out


def _validate_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        raise ValidationFailed(f"name must be a non-empty string of at most {NAME_MAX} characters.", details={"field": "name"})
    return name.strip()


def http_api_create(*, name: Any, cors: Any = None, description: str = "") -> HttpApi:
    """Create an HTTP API with its ``$default`` stage."""
    name = _validate_name(name)
    config = cors_validate(cors)
    with transaction.atomic():
        api = HttpApi.objects.create(id=_random_id(API_ID_LENGTH), name=name, cors=config, description=description or "")
        Stage.objects.create(api=api, name=DEFAULT_STAGE, variables={})
    return api


def http_api_update(*, api: HttpApi, changes: dict[str, Any]) -> HttpApi:
    if "name" in changes:
        api.name = _validate_name(changes["name"])
    if "cors" in changes:
        api.cors = cors_validate(changes["cors"])
    if "description" in changes:
        api.description = str(changes["description"] or "")
    api.save()
    return api


def http_api_delete(*, api: HttpApi) -> None:
    api.delete()


def route_key_parse(route_key: Any) -> tuple[str, str]:
    """``"GET /users/{id}"`` → ``("GET", "/users/{id}")``; ``"$default"`` → ``("", "")``."""
    if not isinstance(route_key, str) or not route_key.strip():
        raise ValidationFailed('route_key must be "METHOD /path" or "$default".', details={"field": "route_key"})
    route_key = route_key.strip()
    if route_key == DEFAULT_ROUTE:
        return "", ""
    parts = route_key.split(" ")
    if len(parts) != 2:
        raise ValidationFailed(f'route_key {route_key!r} must be "METHOD /path" (one space) or "$default".', details={"field": "route_key"})
    method, path = parts[0].upper(), parts[1]
    if method not in METHODS:
        raise ValidationFailed(f"route_key method {parts[0]!r} must be one of {', '.join(METHODS)}.", details={"field": "route_key"})
    if not path.startswith("/"):
        raise ValidationFailed(f"route_key path {path!r} must start with '/'.", details={"field": "route_key"})
    if path != "/":
        segments = path[1:].split("/")
        names: set[str] = set()
        for index, segment in enumerate(segments):
            match = _SEGMENT_PARAM.match(segment)
            if match:
                if match.group(2) and index != len(segments) - 1:
                    raise ValidationFailed(f"route_key path {path!r}: a greedy {{name+}} segment must be the last one.", details={"field": "route_key"})
                if match.group(1) in names:
                    raise ValidationFailed(f"route_key path {path!r} repeats the parameter {match.group(1)!r}.", details={"field": "route_key"})
                names.add(match.group(1))
            elif not segment or not _STATIC_SEGMENT.match(segment) or "{" in segment or "}" in segment:
                raise ValidationFailed(f"route_key path {path!r} has an invalid segment {segment!r}.", details={"field": "route_key"})
    return method, path


def route_create(*, api: HttpApi, route_key: Any, function: Function, payload_format_version: Any = PayloadFormat.V2) -> Route:
    method, path = route_key_parse(route_key)
    if payload_format_version is None:
        payload_format_version = PayloadFormat.V2
    if payload_format_version not in PayloadFormat.values:
        raise ValidationFailed('payload_format_version must be "1.0" or "2.0".', details={"field": "payload_format_version"})
    key = f"{method} {path}" if method else DEFAULT_ROUTE
    if api.routes.count() >= ROUTES_PER_API_MAX:
        raise ValidationFailed(f"An HTTP API has at most {ROUTES_PER_API_MAX} routes.", details={"limit": ROUTES_PER_API_MAX})
    try:
        with transaction.atomic():
            return Route.objects.create(api=api, route_key=key, method=method, path=path, function=function, payload_format_version=payload_format_version)
    except IntegrityError:
        raise Conflict(f"The route {key!r} already exists on API {api.id}.", details={"route_key": key}) from None


def route_delete(*, route: Route) -> None:
    route.delete()


def _validate_variables(variables: Any) -> dict[str, str]:
    if variables is None:
        return {}
    if not isinstance(variables, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in variables.items()):
        raise ValidationFailed("variables must be an object of string values.", details={"field": "variables"})
    if len(variables) > STAGE_VARIABLES_MAX:
        raise ValidationFailed(f"A stage has at most {STAGE_VARIABLES_MAX} variables.", details={"field": "variables"})
    return dict(variables)


def stage_create(*, api: HttpApi, name: Any, variables: Any = None) -> Stage:
    if not isinstance(name, str) or (name != DEFAULT_STAGE and not _STAGE_NAME.match(name)):
        raise ValidationFailed("name must be $default or 1-128 letters, digits, '-' or '_'.", details={"field": "name"})
    clean = _validate_variables(variables)
    if api.stages.count() >= STAGES_PER_API_MAX:
        raise ValidationFailed(f"An HTTP API has at most {STAGES_PER_API_MAX} stages.", details={"limit": STAGES_PER_API_MAX})
    try:
        with transaction.atomic():
            return Stage.objects.create(api=api, name=name, variables=clean)
    except IntegrityError:
        raise Conflict(f"The stage {name!r} already exists on API {api.id}.", details={"name": name}) from None


def stage_update(*, stage: Stage, variables: Any) -> Stage:
    stage.variables = _validate_variables(variables)
    stage.save(update_fields=["variables", "updated_at"])
    return stage


def stage_delete(*, stage: Stage) -> None:
    stage.delete()


def function_url_put(*, function: Function, auth_type: Any = AuthType.NONE, cors: Any = None) -> tuple[FunctionUrl, bool]:
    """Create or replace the function's URL configuration; returns ``(url, created)``."""
    if auth_type is None:
        auth_type = AuthType.NONE
    if auth_type not in AuthType.values:
        raise ValidationFailed("auth_type must be NONE or AWS_IAM.", details={"field": "auth_type"})
    config = cors_validate(cors)
    with transaction.atomic():
        existing = FunctionUrl.objects.select_for_update().filter(function=function).first()
        if existing is not None:
            existing.auth_type, existing.cors = auth_type, config
            existing.save()
            return existing, False
        return FunctionUrl.objects.create(url_id=_random_id(URL_ID_LENGTH), function=function, auth_type=auth_type, cors=config), True


def function_url_delete(*, url: FunctionUrl) -> None:
    url.delete()
