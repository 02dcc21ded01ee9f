"""The console in a real headless Chromium: log in, open a function's Test page, invoke it.

Uses pytest-django's ``live_server``, the real Celery worker, and Playwright's sync API (which runs
an event loop in this thread, hence ``DJANGO_ALLOW_ASYNC_UNSAFE`` for the test's own ORM calls).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator

import pytest
from django.db import connections

from functions.models import Function
from functions.runtimes import available_runtimes
from functions.services import Code, FunctionConfig, function_create
from invoker.models import Invocation, Trigger
from tests import handlers

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
TIMEOUT_MS = 60_000


@pytest.fixture
def page(owner, live_server) -> Iterator:  # owner first: the database outlives the live server
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no Chromium at /usr/bin/chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{live_server.url}/console/login/")
        page.fill("#id_username", "owner")
        page.fill("#id_password", "kiln-pass-123")
        page.click("input[type=submit]")
        page.wait_for_url(re.compile(r".*/console/$"))
        assert "Kiln" in page.content()
        yield page
        # ORM calls made while Playwright runs use a connection of their own context: close it, or
        # it outlives the test database.
        connections.close_all()
        context.close()
        browser.close()


def make(name: str, handler: str, runtime: str) -> Function:
    if runtime not in available_runtimes():
        pytest.skip(f"{runtime} is not installed here")
    files, handler_name = handlers.code(handler, runtime)
    return function_create(name=name, config=FunctionConfig(runtime=runtime, handler=handler_name), code=Code(files=files))


def invoke_from_test_page(page, live_server, function: Function, event: str) -> None:
    page.goto(f"{live_server.url}/console/functions/function/")
    page.click(f"text={function.name}")  # the changelist links to the change form ...
    page.click(".object-tools >> text=Test")  # ... which links to the Test page
    page.wait_for_url(re.compile(rf".*/console/functions/function/{function.pk}/test/$"))
    page.fill("#event", "")
    page.type("#event", event)
    page.click("#invoke")
    page.wait_for_selector("#invoke-result:not([hidden]), #invoke-error:not([hidden])", timeout=TIMEOUT_MS)


def test_invoke_python_function_from_test_page(page, live_server, worker) -> None:
    function = make("py-echo", "print", "python3.11")
    invoke_from_test_page(page, live_server, function, '{"n": 42}')
    assert page.is_hidden("#invoke-error"), page.inner_text("#invoke-error")
    assert page.inner_text("#result-status") == "succeeded"
    assert json.loads(page.inner_text("#result-body")) == "printed"
    logs = page.inner_text("#result-logs")
    assert re.search(r"START RequestId: [0-9a-f-]{36}", logs)
    assert "to stdout 42" in logs and "REPORT RequestId" in logs
    assert page.inner_text("#result-duration").endswith(" ms")
    assert page.inner_text("#result-billed").endswith(" ms")
    assert page.inner_text("#result-memory") == "128 MB"
    assert "cold start" in page.inner_text("#result-init")
    invocation = Invocation.objects.get(function=function)
    assert invocation.trigger == Trigger.CONSOLE and invocation.payload == '{"n": 42}'
    assert page.inner_text("#result-request-id") == str(invocation.pk)
    if os.environ.get("KILN_SCREENSHOTS"):  # for a look at the pages: KILN_SCREENSHOTS=/tmp
        page.screenshot(path=f"{os.environ['KILN_SCREENSHOTS']}/kiln-test-page.png", full_page=True)
    # The link leads to the (read-only) invocation record, with the log in <pre>.
    page.click("#result-link")
    page.wait_for_url(re.compile(rf".*/console/invoker/invocation/{invocation.pk}/change/$"))
    assert "to stdout 42" in page.inner_text("pre.kiln-pre >> nth=-1")
    if os.environ.get("KILN_SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['KILN_SCREENSHOTS']}/kiln-invocation.png", full_page=True)
        page.goto(f"{live_server.url}/console/functions/function/")
        page.screenshot(path=f"{os.environ['KILN_SCREENSHOTS']}/kiln-list.png", full_page=True)


def test_invoke_node_hello_and_invalid_json(page, live_server, worker) -> None:
    runtime = next((r for r in ("nodejs22.x", "nodejs20.x") if r in available_runtimes()), "nodejs20.x")
    function = make("node-hello", "hello", runtime)
    invoke_from_test_page(page, live_server, function, '{"who": "browser"}')
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
    assert Invocation.objects.filter(function=function).count() == 1


def test_create_function_in_browser_with_tab_and_env_rows(page, live_server) -> None:
    page.goto(f"{live_server.url}/console/functions/function/add/")
    page.fill("#id_name", "typed")
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
    revision = Function.objects.get(name="typed").latest
    assert revision.inline_files == {"index.py": "def handler(event, context):\n    return {'typed': True}"}
    assert revision.environment == {"MODE": "browser"}
