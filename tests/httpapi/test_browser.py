"""HTTP API console pages in headless Chromium against Kiln as `make run` starts it: a route's Call form
asks for its path parameters, and CORS is edited as fields (with the JSON as a view)."""

from __future__ import annotations

import json

import pytest

from tests import handlers
from tests.browser import logged_in
from tests.stack import Stack

pytestmark = pytest.mark.browser


def test_call_button_asks_for_path_parameters_and_cors_fields_save(kiln_stack: Stack) -> None:
    stack = kiln_stack
    files, handler = handlers.code("echo", "python3.11")
    function = stack.api("POST", "/functions/", {"name": stack.unique("echo-route"), "runtime": "python3.11", "handler": handler, "code": {"files": files}}, expect=201)
    api = stack.api("POST", "/http-apis/", {"name": stack.unique("shop")}, expect=201)
    stack.api("POST", f"/http-apis/{api['id']}/routes/", {"route_key": "GET /users/{id}", "function": function["name"]}, expect=201)
    stack.api("POST", f"/http-apis/{api['id']}/routes/", {"route_key": "ANY /files/{proxy+}", "function": function["name"]}, expect=201)
    with logged_in(stack) as browser:
        page = browser.page
        browser.goto(f"/console/httpapi/httpapi/{api['id']}/change/")
        row = page.locator("tr", has=page.locator("input[value='GET /users/{id}']"))
        row.locator(".kiln-call").click()
        row.locator("input[data-param=id]").fill("42 x")
        row.locator("input[name=_query]").fill("q=1")
        row.locator(".kiln-call-send").click()
        out = row.locator(".kiln-call-out")
        page.wait_for_function("el => /\\n[0-9]{3} |failed/.test(el.textContent)", arg=out.element_handle())
        assert "\n200 " in out.inner_text(), out.inner_text()
        text = out.inner_text()
        assert f"/gw/{api['id']}/users/42%20x?q=1" in text.splitlines()[0]
        event = json.loads(text.split("\n\n", 1)[1])
        assert event["pathParameters"] == {"id": "42 x"} and event["queryStringParameters"] == {"q": "1"}

        # A greedy parameter keeps its slashes; an ANY route asks for the method and sends the body.
        row = page.locator("tr", has=page.locator("input[value='ANY /files/{proxy+}']"))
        row.locator(".kiln-call").click()
        row.locator("input[data-param=proxy]").fill("a/b c.txt")
        row.locator("select[name=_method]").select_option("POST")
        row.locator("textarea[name=_body]").fill('{"up": 1}')
        row.locator(".kiln-call-send").click()
        out = row.locator(".kiln-call-out")
        page.wait_for_function("el => /\\n[0-9]{3} |failed/.test(el.textContent)", arg=out.element_handle())
        assert "\n200 " in out.inner_text(), out.inner_text()
        event = json.loads(out.inner_text().split("\n\n", 1)[1])
        assert event["requestContext"]["http"]["method"] == "POST"
        assert event["pathParameters"] == {"proxy": "a/b c.txt"} and json.loads(event["body"]) == {"up": 1}
        browser.screenshot("http-api")

        # CORS as fields: the saved configuration is what the REST API shows.
        page.fill("#id_cors_allow_origins", "https://a.example, https://b.example")
        page.check("input[name=cors_allow_methods][value=GET]")
        page.check("input[name=cors_allow_methods][value=POST]")
        page.fill("#id_cors_max_age", "300")
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")
        assert stack.api("GET", f"/http-apis/{api['id']}/", expect=200)["cors"] == {
            "allowOrigins": ["https://a.example", "https://b.example"], "allowMethods": ["GET", "POST"], "maxAge": 300}
        # An invalid value is refused with the API's message, and nothing changes.
        page.fill("#id_cors", '{"allowOrigins": ["*"], "allowCredentials": true}')
        page.click("input[name=_continue]")
        page.wait_for_selector(".errornote")
        assert "allowCredentials cannot be true" in page.inner_text("#content-main")
        assert stack.api("GET", f"/http-apis/{api['id']}/", expect=200)["cors"]["maxAge"] == 300
        assert browser.problems == [], "\n".join(browser.problems)
