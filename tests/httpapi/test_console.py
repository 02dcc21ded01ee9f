"""Console pages for HTTP APIs and function URLs: create an API, add a route with the function picker,
see each route's full URL with its Call button."""

from __future__ import annotations

import re

import pytest

from httpapi.models import FunctionUrl, HttpApi, Route

pytestmark = pytest.mark.django_db


def _inline_management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial), f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def test_create_api_with_route_and_see_its_url(client, owner, make_function):
    make_function("fn")
    from functions.models import Function

    fn = Function.objects.get(name="fn")
    client.force_login(owner)
    add = client.get("/console/httpapi/httpapi/add/")
    assert add.status_code == 200
    data = {"name": "shop", "description": "", "cors": '{"allowOrigins": ["*"]}',
            **_inline_management("routes", 1), "routes-0-route_key": "get /items/{id}", "routes-0-function": str(fn.pk), "routes-0-payload_format_version": "2.0",
            **_inline_management("stages", 0)}
    response = client.post("/console/httpapi/httpapi/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    api = HttpApi.objects.get(name="shop")
    assert len(api.id) == 10 and api.cors == {"allowOrigins": ["*"]}
    assert list(api.stages.values_list("name", flat=True)) == ["$default"]
    route = Route.objects.get(api=api)
    assert (route.route_key, route.method, route.path) == ("GET /items/{id}", "GET", "/items/{id}")
    page = client.get(f"/console/httpapi/httpapi/{api.id}/change/").content.decode()
    assert f'data-path="/gw/{api.id}/items/{{id}}"' in page and "kiln-call" in page and re.search(r"httpapi/call\.[0-9a-f]{12}\.js", page)
    assert client.get("/console/httpapi/httpapi/").status_code == 200


def test_bad_route_key_is_a_form_error(client, owner, make_function):
    make_function("fn")
    from functions.models import Function

    client.force_login(owner)
    data = {"name": "x", "description": "", "cors": "null", **_inline_management("routes", 1), "routes-0-route_key": "GET nope",
            "routes-0-function": str(Function.objects.get(name="fn").pk), "routes-0-payload_format_version": "2.0", **_inline_management("stages", 0)}
    response = client.post("/console/httpapi/httpapi/add/", data)
    assert response.status_code == 200 and "must start with" in response.content.decode()
    assert not HttpApi.objects.exists()


def test_function_url_page(client, owner, make_function):
    make_function("fn")
    from functions.models import Function

    client.force_login(owner)
    response = client.post("/console/httpapi/functionurl/add/", {"function": str(Function.objects.get(name="fn").pk), "auth_type": "NONE", "cors": "null"})
    assert response.status_code == 302, response.content.decode()[:2000]
    url = FunctionUrl.objects.get()
    assert len(url.url_id) == 32
    assert f'data-path="/url/{url.url_id}/"' in client.get("/console/httpapi/functionurl/").content.decode()
