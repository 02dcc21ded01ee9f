"""The console in a real headless Chromium against Kiln started as `make run` starts it.

The stack (tests/stack.py) is the real ``scripts/run.sh``: gunicorn serving static files through WhiteNoise,
the Celery worker running functions in their sandboxes, beat. Tests set things up through the REST API and
check what the browser shows; every page they load is watched for assets that do not answer 200 and for
JavaScript errors (tests/browser.py).
"""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlparse

import pytest

from tests import handlers
from tests.browser import logged_in
from tests.stack import Stack

pytestmark = pytest.mark.browser
PAGE_LIMIT = 80  # the crawl is bounded; the console has far fewer distinct pages


def make(stack: Stack, base: str, handler: str, runtime: str) -> dict:
    runtimes = {r["identifier"] for r in stack.api("GET", "/runtimes/", expect=200)["runtimes"] if r["installed"]}
    if runtime not in runtimes:
        pytest.fail(f"{runtime} is not installed here; .ci/run installs Node.js and Python")
    files, handler_name = handlers.code(handler, runtime)
    return stack.api("POST", "/functions/", {"name": stack.unique(base), "runtime": runtime, "handler": handler_name, "code": {"files": files}}, expect=201)


def node_runtime(stack: Stack) -> str:
    runtimes = {r["identifier"] for r in stack.api("GET", "/runtimes/", expect=200)["runtimes"] if r["installed"]}
    return next((r for r in ("nodejs22.x", "nodejs20.x") if r in runtimes), "nodejs20.x")


def invoke_from_test_page(browser, function: dict, event: str) -> None:
    page = browser.page
    browser.goto("/console/functions/function/")
    page.click(f"text={function['name']}")  # the changelist links to the change form ...
    page.click(".object-tools >> text=Test")  # ... which links to the Test page
    page.wait_for_url(re.compile(r".*/console/functions/function/\d+/test/$"))
    page.fill("#event", "")
    page.type("#event", event)
    page.click("#invoke")
    page.wait_for_selector("#invoke-result:not([hidden]), #invoke-error:not([hidden])")


def test_every_console_page_is_styled_with_all_assets_and_no_script_errors(kiln_stack: Stack) -> None:
    stack = kiln_stack
    function = make(stack, "crawl", "echo", "python3.11")
    record = stack.api("POST", f"/functions/{function['name']}/invoke/", {"crawl": True}, expect=200)
    assert record == {"crawl": True}
    stack.api("POST", "/buckets/", {"name": stack.unique("crawl-bucket")}, expect=201)
    http_api = stack.api("POST", "/http-apis/", {"name": stack.unique("crawl-api")}, expect=201)
    stack.api("POST", f"/http-apis/{http_api['id']}/routes/", {"route_key": "GET /users/{id}", "function": function["name"]}, expect=201)
    stack.api("POST", "/roles/", {"name": stack.unique("crawl-role"), "policy_document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}, expect=201)
    with logged_in(stack) as browser:
        page = browser.page
        seen: set[str] = set()
        queue = ["/console/", "/api/docs/"]
        while queue and len(seen) < PAGE_LIMIT:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            response = browser.goto(path)
            assert response.status == 200, f"{path} answered {response.status}"
            page.wait_for_load_state("networkidle")
            shot = {"/console/": "dashboard", "/console/functions/function/": "functions", "/console/environments/": "workers"}.get(path)
            if shot:
                browser.screenshot(shot)
            if path.startswith("/console/"):
                # Styled: the admin's stylesheet applied (a grey unstyled page has the browser's default font).
                assert page.evaluate("getComputedStyle(document.body).fontFamily") != '"Times New Roman"', path
                assert page.evaluate("[...document.styleSheets].length") >= 3, path
            for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
                target = urlparse(urljoin(stack.url + path, href))
                if target.netloc != urlparse(stack.url).netloc or not target.path.startswith("/console/"):
                    continue
                if any(word in target.path for word in ("/logout", "/delete/", "/password_change", "/history/")):
                    continue
                queue.append(target.path + (f"?{target.query}" if target.query and "o=" not in target.query else ""))
        if "/api/docs/" in seen:
            browser.goto("/api/docs/")
            page.wait_for_selector(".swagger-ui .info")  # Swagger UI rendered from its static bundle
        assert len(seen) >= 12, sorted(seen)
        browser.goto("/console/environments/")
        assert "Network: " in page.inner_text(".kiln-isolation") and "/tmp: " in page.inner_text(".kiln-isolation")
        assert browser.problems == [], "\n".join(browser.problems)


def test_static_files_are_hashed_compressed_and_cached_forever(kiln_stack: Stack) -> None:
    login = kiln_stack.request("GET", "/console/login/", auth=False)
    assert login.status == 200
    css = re.findall(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login.body.decode())
    assert css, "the login page links the admin stylesheet by its hashed name"
    answer = kiln_stack.request("GET", css[0], auth=False, headers={"Accept-Encoding": "gzip"})
    assert answer.status == 200
    assert answer.headers["Content-Encoding"] == "gzip"
    assert "immutable" in answer.headers["Cache-Control"] and "max-age=315360000" in answer.headers["Cache-Control"]
    assert kiln_stack.request("GET", "/static/console/does-not-exist.js", auth=False).status == 404


def test_invoke_python_function_from_test_page(kiln_stack: Stack) -> None:
    function = make(kiln_stack, "py-echo", "print", "python3.11")
    with logged_in(kiln_stack) as browser:
        page = browser.page
        invoke_from_test_page(browser, function, '{"n": 42}')
        assert page.is_hidden("#invoke-error"), page.inner_text("#invoke-error")
        assert page.inner_text("#result-status") == "succeeded"
        assert json.loads(page.inner_text("#result-body")) == "printed"
        logs = page.inner_text("#result-logs")
        assert re.search(r"START RequestId: [0-9a-f-]{36}", logs)
        assert "to stdout 42" in logs and "REPORT RequestId" in logs
        markers = page.eval_on_selector_all("#result-logs .kiln-log-marker", "spans => spans.map(s => s.textContent.split(' ')[0])")
        assert markers == ["START", "END", "REPORT"], markers  # Lambda's lines highlighted, the function's own not
        assert page.inner_text("#result-duration").endswith(" ms")
        assert page.inner_text("#result-billed").endswith(" ms")
        assert page.inner_text("#result-memory") == "128 MB"
        assert "cold start" in page.inner_text("#result-init")
        history = kiln_stack.api("GET", f"/invocations/?function={function['name']}", expect=200)["results"]
        assert len(history) == 1 and history[0]["trigger"]["type"] == "console"
        request_id = history[0]["request_id"]
        assert page.inner_text("#result-request-id") == request_id
        browser.screenshot("function-test")
        # The link leads to the (read-only) invocation record, with the log in <pre>.
        page.click("#result-link")
        page.wait_for_url(re.compile(rf".*/console/invoker/invocation/{request_id}/change/$"))
        assert "to stdout 42" in page.inner_text("pre.kiln-pre >> nth=-1")
        browser.screenshot("invocation")
        assert browser.problems == [], "\n".join(browser.problems)


def test_invoke_node_hello_and_invalid_json(kiln_stack: Stack) -> None:
    function = make(kiln_stack, "node-hello", "hello", node_runtime(kiln_stack))
    with logged_in(kiln_stack) as browser:
        page = browser.page
        invoke_from_test_page(browser, function, '{"who": "browser"}')
        assert page.inner_text("#result-status") == "succeeded"
        result = json.loads(page.inner_text("#result-body"))
        assert result["statusCode"] == 200 and json.loads(result["body"]) == {"message": "Hello from Lambda!"}
        logs = page.inner_text("#result-logs")
        assert "START RequestId:" in logs and "Event:" in logs and "browser" in logs
        # Invalid JSON: a clear message on the page, and no invocation.
        page.fill("#event", '{"who": ')
        page.click("#invoke")
        page.wait_for_selector("#invoke-error:not([hidden])")
        assert "Could not parse request body into json" in page.inner_text("#invoke-error")
        assert page.is_hidden("#invoke-result")
        assert len(kiln_stack.api("GET", f"/invocations/?function={function['name']}", expect=200)["results"]) == 1
        assert browser.problems == [], "\n".join(browser.problems)


def test_create_function_in_browser_with_tab_and_env_rows(kiln_stack: Stack) -> None:
    name = kiln_stack.unique("typed")
    with logged_in(kiln_stack) as browser:
        page = browser.page
        browser.goto("/console/functions/function/add/")
        page.fill("#id_name", name)
        page.select_option("#id_runtime", "python3.11")
        page.click(".kiln-ide .cm-content")  # the code editor (console/editor.js; its own tests: test_editor_browser.py)
        page.keyboard.press("Control+a")
        page.keyboard.type("def handler(event, context):")
        page.keyboard.press("Enter")  # indents after the colon
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        page.keyboard.type("return {'typed': True")  # the editor closed the brace when it was opened
        assert page.evaluate("window.kilnEditor.view.state.doc.toString()") == "def handler(event, context):\n    return {'typed': True}"
        page.click("text=Add environment variable")
        page.fill("input[name=env_key] >> nth=0", "MODE")
        page.fill("input[name=env_value] >> nth=0", "browser")
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")
        assert browser.problems == [], "\n".join(browser.problems)
    detail = kiln_stack.api("GET", f"/functions/{name}/", expect=200)
    assert detail["code"]["files"] == {"index.py": "def handler(event, context):\n    return {'typed': True}"}
    assert detail["environment"] == {"MODE": "browser"}


def test_function_page_panels_show_triggers_and_save_in_place(kiln_stack: Stack) -> None:
    stack = kiln_stack
    function = make(stack, "panels", "echo", "python3.11")
    name = function["name"]
    api = stack.api("POST", "/http-apis/", {"name": stack.unique("panels-api")}, expect=201)
    stack.api("POST", f"/http-apis/{api['id']}/routes/", {"route_key": "POST /orders", "function": name}, expect=201)
    bucket = stack.unique("panels-bucket")
    stack.api("POST", "/buckets/", {"name": bucket}, expect=201)
    stack.api("PUT", f"/buckets/{bucket}/notifications/", [{"id": "uploads", "events": ["s3:ObjectCreated:*"], "filter": {"prefix": "in/"}, "function": name}], expect=200)
    with logged_in(stack) as browser:
        page = browser.page
        browser.goto("/console/functions/function/")
        page.click(f"text={name}")
        from playwright.sync_api import expect

        page.wait_for_url(re.compile(r".*/console/functions/function/\d+/change/$"))
        triggers = page.locator("#panel-triggers tr.kiln-trigger")
        expect(triggers).to_have_count(2)
        assert "POST /orders" in triggers.nth(0).inner_text() and "HTTP API route" in triggers.nth(0).inner_text()
        assert bucket in triggers.nth(1).inner_text() and "prefix 'in/'" in triggers.nth(1).inner_text()

        page.fill("#panel-concurrency input[name=reserved]", "0")
        page.click("#panel-concurrency button[type=submit]")
        page.wait_for_selector("#panel-concurrency .kiln-panel-status:text('Saved.')")
        assert stack.api("GET", f"/functions/{name}/concurrency/", expect=200)["reserved"] == 0
        page.fill("#panel-concurrency input[name=reserved]", "")  # empty: back to the unreserved pool
        page.click("#panel-concurrency button[type=submit]")
        page.wait_for_selector("#panel-concurrency .kiln-panel-status:text('Saved.')")
        assert stack.api("GET", f"/functions/{name}/concurrency/", expect=200)["reserved"] is None

        page.fill("#panel-async input[name=maximum_retry_attempts]", "1")
        page.fill("#panel-async input[name=maximum_event_age_seconds]", "120")
        page.click("#panel-async button[type=submit]")
        page.wait_for_selector("#panel-async .kiln-panel-status:text('Saved.')")
        assert stack.api("GET", f"/functions/{name}/event-invoke-config/", expect=200) == {"function": name, "maximum_retry_attempts": 1, "maximum_event_age_seconds": 120,
                                                                                      "on_success": None, "on_failure": None}

        page.click("#panel-url button[type=submit]")  # Create URL: the page reloads with it
        page.wait_for_selector("#panel-url a#function-url")
        url = stack.api("GET", f"/functions/{name}/url/", expect=200)
        assert page.get_attribute("#panel-url a#function-url", "href").endswith(f"/url/{url['url_id']}/")
        expect(page.locator("#panel-triggers tr.kiln-trigger")).to_have_count(3)
        browser.screenshot("function-panels")
        assert browser.problems == [], "\n".join(browser.problems)


def test_publish_versions_and_route_an_alias_from_the_function_page(kiln_stack: Stack) -> None:
    stack = kiln_stack
    function = make(stack, "versions", "context", "python3.11")
    name = function["name"]
    target = make(stack, "versions-dest", "echo", "python3.11")
    with logged_in(stack) as browser:
        page = browser.page
        from playwright.sync_api import expect

        browser.goto("/console/functions/function/")
        page.click(f"text={name}")
        page.wait_for_url(re.compile(r".*/console/functions/function/\d+/change/$"))
        page.fill("#panel-versions input[name=description]", "first release")
        page.click("#panel-versions form[data-path='versions/'] button[type=submit]")
        expect(page.locator("#panel-versions table.kiln-versions tbody tr")).to_have_text([re.compile(r"^1\s*first release")])
        stack.api("PATCH", f"/functions/{name}/", {"memory_size": 256}, expect=200)
        page.click("#panel-versions form[data-path='versions/'] button[type=submit]")
        expect(page.locator("#panel-versions table.kiln-versions tbody tr")).to_have_count(2)
        page.fill("#alias-form input[name=alias_name]", "prod")
        page.select_option("#alias-form select[name=function_version]", "1")
        page.fill("#alias-form input[name=routing_weight]", "100")
        page.select_option("#alias-form select[name=routing_version]", "2")
        page.click("#alias-form button[type=submit]")
        expect(page.locator("#panel-versions tr[data-alias=prod]")).to_contain_text("100% to version 2")
        browser.screenshot("function-versions", "#panel-versions")
        assert stack.api("GET", f"/functions/{name}/aliases/prod/", expect=200)["routing"] == {"2": 1.0}
        answer = stack.request("POST", f"/api/v1/functions/{name}/invoke/?qualifier=prod", {})
        assert answer.status == 200 and answer.headers["X-Kiln-Executed-Version"] == "2"
        page.fill("#alias-form input[name=alias_name]", "prod")  # the same name: moved in place, routing cleared
        page.select_option("#alias-form select[name=routing_version]", "")
        page.click("#alias-form button[type=submit]")
        expect(page.locator("#panel-versions tr[data-alias=prod]")).not_to_contain_text("% to version")
        page.select_option("#panel-async select[name=on_failure]", label=target["name"])
        page.click("#panel-async button[type=submit]")
        page.wait_for_selector("#panel-async .kiln-panel-status:text('Saved.')")
        assert stack.api("GET", f"/functions/{name}/event-invoke-config/", expect=200)["on_failure"].endswith(f":function:{target['name']}")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#panel-versions tr[data-alias=prod] .kiln-panel-delete")
        expect(page.locator("#panel-versions tr[data-alias=prod]")).to_have_count(0)
        browser.goto("/console/invoker/invocation/")
        expect(page.locator("#result_list tbody tr").first).to_contain_text("2 via prod")
        assert browser.problems == [], "\n".join(browser.problems)


def test_live_tail_shows_new_invocations_lines_with_filter_and_pause(kiln_stack: Stack) -> None:
    stack = kiln_stack
    function = make(stack, "tail", "print", "python3.11")
    name = function["name"]
    stack.api("POST", f"/functions/{name}/invoke/", {"n": 1}, expect=200)  # before the page opens: not shown
    with logged_in(stack) as browser:
        page = browser.page
        browser.goto("/console/functions/function/")
        page.click(f"text={name}")
        page.wait_for_url(re.compile(r".*/console/functions/function/\d+/change/$"))
        page.wait_for_selector("#tail-log", state="attached")
        page.wait_for_timeout(1200)  # the tail has read the history once
        assert page.inner_text("#tail-log") == ""
        record = stack.request("POST", f"/api/v1/functions/{name}/invoke/", {"n": 7})
        request_id = record.headers["X-Kiln-Request-Id"]
        page.wait_for_selector(f"#tail-log .kiln-tail-line[data-request-id='{request_id}']", timeout=3000)  # within a second or so of finishing
        text = page.inner_text("#tail-log")
        assert "to stdout 7" in text and f"START RequestId: {request_id}" in text and "REPORT RequestId" in text
        assert "to stdout 1" not in text
        page.fill("#tail-filter", "to stdout")
        assert page.inner_text("#tail-log").strip().splitlines() == ["to stdout 7"]
        page.fill("#tail-filter", "")
        page.click("#tail-pause")
        paused = stack.request("POST", f"/api/v1/functions/{name}/invoke/", {"n": 8}).headers["X-Kiln-Request-Id"]
        page.wait_for_timeout(1500)
        assert page.locator(f"#tail-log [data-request-id='{paused}']").count() == 0
        page.click("#tail-pause")  # Resume catches up
        page.wait_for_selector(f"#tail-log [data-request-id='{paused}']", timeout=3000)
        assert browser.problems == [], "\n".join(browser.problems)
