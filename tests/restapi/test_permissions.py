"""Personas on the REST API: every endpoint and method, generated from the URLconf, for an administrator, a
developer, a viewer and an outsider; secrets masked for a viewer; list endpoints' query counts flat."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver

from restapi.permissions import ModelPermissions, required_permissions
from tests.personas import assert_queries_flat, persona_user, token_client

METHODS = ("get", "post", "put", "patch", "delete")
# Public by design: the token login (and a token's revocation of itself: a persona's walk would revoke its own
# token), and code downloads authorised by the signed token in their path.
PUBLIC = {"ApiTokenView", "CodeDownloadView"}


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def api_endpoints() -> list[tuple[str, type, str]]:
    """(path with placeholders filled, view class, method) for every class-based view under /api/v1/."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        view = getattr(pattern.callback, "cls", None)
        if not route.startswith("api/v1/") or view is None:
            continue  # the catch-all 404 under /api/v1/ is a plain function
        path = "/" + re.sub(r"<(?:\w+:)?\w+>", "kiln-missing", route)
        found += [(path, view, method) for method in METHODS if hasattr(view, method)]
    return found


ENDPOINTS = api_endpoints()


def test_the_urlconf_yields_the_whole_api() -> None:
    views = {view.__name__ for _, view, _ in ENDPOINTS}
    assert len(ENDPOINTS) > 60 and {"FunctionListView", "InvokeView", "RoleDetailView", "ObjectDetailView", "StageDetailView", "UsageView"} <= views


@pytest.mark.parametrize(("path", "view", "method"), ENDPOINTS, ids=[f"{m.upper()} {p}" for p, _, m in ENDPOINTS])
def test_every_endpoint_names_the_permissions_it_needs(db: None, path: str, view: type, method: str) -> None:
    """A new endpoint cannot be forgotten open: it names its permissions, or only a superuser gets in."""
    if view.__name__ in PUBLIC:
        assert view.permission_classes in ([], ()), f"{view.__name__} is listed as public but checks permissions"
        return
    assert ModelPermissions in view.permission_classes
    needed = required_permissions(view, method.upper())
    assert needed, f"{view.__name__}.{method} names no permission: set permission_model or permissions_for"
    for name in needed:
        app, codename = name.split(".")
        assert Permission.objects.filter(content_type__app_label=app, codename=codename).exists(), f"{view.__name__} names {name}, which does not exist"


def expected(persona: str, path: str, method: str) -> bool:
    """The personas' contract, written out independently of how the views declare it."""
    if persona == "admin":
        return True
    if persona == "outsider":
        return False
    if persona == "viewer":
        return method == "get"
    return not (path.startswith("/api/v1/roles/") and method != "get")  # a developer: all but changing roles


@pytest.fixture
def clients(db: None) -> dict[str, Any]:
    return {name: token_client(persona_user(name)) for name in ("admin", "developer", "viewer", "outsider")}


@pytest.mark.parametrize("persona", ["admin", "developer", "viewer", "outsider"])
def test_each_persona_gets_exactly_what_it_may(persona: str, clients: dict[str, Any]) -> None:
    client = clients[persona]
    wrong = []
    for path, view, method in ENDPOINTS:
        if view.__name__ in PUBLIC:
            continue
        response = getattr(client, method)(path, {}, format="json") if method != "get" else client.get(path)
        assert response.status_code < 500, (method, path, response.content[:300])
        allowed = expected(persona, path, method)
        if allowed and response.status_code in (401, 403):
            wrong.append(f"{method.upper()} {path}: {response.status_code}, expected to be let in")
        if not allowed:
            body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
            if response.status_code != 403 or body.get("error", {}).get("code") != "AccessDeniedException":
                wrong.append(f"{method.upper()} {path}: {response.status_code} {body}, expected 403 AccessDeniedException")
    assert not wrong, "\n".join(wrong)


def test_the_denial_says_what_to_do(clients: dict[str, Any]) -> None:
    response = clients["viewer"].post("/api/v1/functions/", {}, format="json")
    assert response.status_code == 403
    assert "persona" in response.json()["error"]["message"]


def test_without_a_token_it_is_401_not_403(anon: Any) -> None:
    response = anon.get("/api/v1/functions/")
    assert response.status_code == 401 and response.json()["error"]["code"] == "NotAuthenticated"


def test_a_viewer_sees_a_function_but_not_its_secrets(db: None, make_function: Any, clients: dict[str, Any]) -> None:
    make_function("with-secret", environment={"DB_PASSWORD": "hunter2-planted", "MODE": "prod"})
    for persona in ("viewer",):
        detail = clients[persona].get("/api/v1/functions/with-secret/")
        listed = clients[persona].get("/api/v1/functions/")
        assert detail.status_code == 200 and listed.status_code == 200
        assert detail.json()["environment"] == {"DB_PASSWORD": "********", "MODE": "********"}
        assert b"hunter2-planted" not in detail.content + listed.content
    developer = clients["developer"].get("/api/v1/functions/with-secret/").json()
    assert developer["environment"] == {"DB_PASSWORD": "hunter2-planted", "MODE": "prod"}


def test_a_developer_invokes_and_a_viewer_cannot(db: None, make_function: Any, clients: dict[str, Any]) -> None:
    make_function("runnable")
    refused = clients["viewer"].post("/api/v1/functions/runnable/invoke/?invocation_type=Event", {}, format="json")
    assert refused.status_code == 403
    accepted = clients["developer"].post("/api/v1/functions/runnable/invoke/?invocation_type=Event", {}, format="json")
    assert accepted.status_code == 202, accepted.content


def test_group_changes_apply_to_the_next_request(db: None) -> None:
    from django.contrib.auth.models import Group

    user = persona_user("viewer")
    client = token_client(user)
    assert client.post("/api/v1/buckets/", {"name": "promoted-bucket"}, format="json").status_code == 403
    user.groups.set([Group.objects.get(name="Developers")])
    assert client.post("/api/v1/buckets/", {"name": "promoted-bucket"}, format="json").status_code == 201
    user.groups.clear()
    assert client.get("/api/v1/buckets/").status_code == 403


@pytest.mark.parametrize(("path", "create"), [
    ("/api/v1/functions/", "function"), ("/api/v1/buckets/", "bucket"), ("/api/v1/roles/", "role"), ("/api/v1/layers/", "layer"),
])
def test_list_endpoints_do_not_query_per_row(db: None, api: Any, make_function: Any, path: str, create: str) -> None:
    """The number of queries of a list does not grow with its rows (no N+1)."""
    assert_queries_flat(api, path, api, make_function, create)
