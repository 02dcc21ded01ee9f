"""The function form's code editor in a real headless Chromium: type, save, run what was saved.

Everything the tests do to Kiln goes through the ``kiln`` fixture (its URL, a user and an API token),
over HTTP: the browser for the console, the REST API to create functions, read their code back and
invoke them. ``kiln`` is Kiln as ``make run`` starts it (tests/stack.py): gunicorn with WhiteNoise, worker and beat.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from console.forms import STARTERS

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
TIMEOUT_MS = 60_000
EDITOR = ".kiln-ide .cm-content"


@dataclass
class Kiln:
    url: str
    username: str
    password: str
    token: str

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def code(self, name: str) -> dict[str, str] | None:
        status, data = self.api("GET", f"/api/v1/functions/{name}/")
        assert status == 200, data
        return data["code"]["files"]

    def invoke(self, name: str, event: Any) -> Any:
        status, data = self.api("POST", f"/api/v1/functions/{name}/invoke/", event)
        assert status == 200, data
        return data

    def create(self, name: str, runtime: str, handler: str, **code: Any) -> None:
        status, data = self.api("POST", "/api/v1/functions/", {"name": name, "runtime": runtime, "handler": handler, "code": code})
        assert status == 201, data

    def runtimes(self) -> list[str]:
        status, data = self.api("GET", "/api/v1/runtimes/")
        assert status == 200, data
        items = data.get("runtimes", data) if isinstance(data, dict) else data
        return [item["identifier"] if isinstance(item, dict) else item for item in items if not isinstance(item, dict) or item.get("installed", True)]


@pytest.fixture
def kiln(kiln_stack) -> Kiln:
    """The Kiln under test, as `make run` starts it (tests/stack.py): where it answers, who signs in, a token."""
    return Kiln(url=kiln_stack.url, username=kiln_stack.username, password=kiln_stack.password, token=kiln_stack.token)


@pytest.fixture
def browser() -> Iterator:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.fail("no Chromium at /usr/bin/chromium: install Debian's chromium package (.ci/run does)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def signed_in(browser, kiln: Kiln, **context_options: Any):
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    # Script errors, and any asset or request that fails (the browser's own /favicon.ico aside).
    page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" and "Failed to load resource" not in message.text else None)
    page.on("response", lambda response: page.errors.append(f"{response.status} {response.url}") if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    page.goto(f"{kiln.url}/console/login/")
    page.fill("#id_username", kiln.username)
    page.fill("#id_password", kiln.password)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/console/$"))
    return page


@pytest.fixture
def page(browser, kiln: Kiln) -> Iterator:
    page = signed_in(browser, kiln)
    yield page
    page.context.close()


def function_pk(kiln: Kiln, page, name: str) -> str:
    page.goto(f"{kiln.url}/console/functions/function/?q={name}")
    href = page.get_attribute(f"#result_list a:text-is('{name}')", "href")
    return re.search(r"/function/([^/]+)/change/", href).group(1)


def open_function(page, kiln: Kiln, name: str) -> None:
    pk = function_pk(kiln, page, name)
    page.goto(f"{kiln.url}/console/functions/function/{pk}/change/")
    page.wait_for_selector(EDITOR)


def editor_text(page) -> str:
    return page.evaluate("() => window.kilnEditor.view.state.doc.toString()")


def replace_text(page, text: str) -> None:
    """Select everything in the editor and type over it (key by key, as a person types)."""
    page.click(EDITOR)
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


def screenshot(page, name: str) -> None:
    if os.environ.get("KILN_SCREENSHOTS"):  # for a look at the pages: KILN_SCREENSHOTS=/tmp
        page.screenshot(path=f"{os.environ['KILN_SCREENSHOTS']}/kiln-{name}.png", full_page=True)
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=f"{os.environ['KILN_SCREENSHOTS']}/kiln-{name}-dark.png", full_page=True)
        page.emulate_media(color_scheme="light")


def saved(page) -> None:
    page.wait_for_selector(".messagelist .success")
    assert "saved" in page.inner_text(".messagelist .success")


def test_type_in_the_editor_save_with_ctrl_s_and_run_it(page, kiln: Kiln) -> None:
    kiln.create("edit-me", "python3.11", "index.handler", files={"index.py": "def handler(event, context):\n    return 'old'\n"})
    open_function(page, kiln, "edit-me")
    assert page.inner_text(".kiln-pane-name") == "index.py" and page.inner_text(".kiln-pane-lang") == "Python"
    assert page.locator(".kiln-ide .cm-lineNumbers .cm-gutterElement").count() >= 2  # line numbers
    assert page.locator(".kiln-ide .cm-line span[class]").count() > 0  # highlighted tokens
    assert page.is_hidden("textarea[name=code_content]")  # the plain rows stay, hidden, as what is submitted

    page.click(EDITOR)
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type("def handler(event, context):")
    page.keyboard.press("Enter")  # Python indentation after the colon
    page.keyboard.type("return {'doubled': event['n'] * 2")  # the closing brace was inserted with the opening one
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("# end")
    expected = "def handler(event, context):\n    return {'doubled': event['n'] * 2}\n# end"
    assert editor_text(page) == expected
    assert page.locator(".kiln-tree-item.is-modified[data-name='index.py']").count() == 1
    # Brackets are matched where the cursor stands next to one.
    page.keyboard.press("ArrowUp")
    page.keyboard.press("End")
    assert page.locator(".kiln-ide .cm-matchingBracket").count() >= 1
    # Ctrl-F opens the search panel.
    page.keyboard.press("Control+f")
    page.wait_for_selector(".kiln-ide .cm-search input[name=search]")
    page.keyboard.press("Escape")

    screenshot(page, "editor")
    page.click(EDITOR)
    page.keyboard.press("Control+s")  # "Save and continue editing"
    saved(page)
    assert re.search(r"/change/$", page.url)
    assert kiln.code("edit-me") == {"index.py": expected}
    assert kiln.invoke("edit-me", {"n": 21}) == {"doubled": 42}
    page.wait_for_selector(EDITOR)
    assert editor_text(page) == expected
    assert not page.errors, page.errors

    # Leaving with unsaved changes asks first; a saved page does not.
    page.click(EDITOR)
    page.keyboard.type("x")
    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.goto(f"{kiln.url}/console/")
    assert dialogs == ["beforeunload"]


def test_files_are_added_renamed_and_deleted_in_the_tree(page, kiln: Kiln) -> None:
    kiln.create("two-files", "python3.11", "index.handler", files={"index.py": "def handler(event, context):\n    return 0\n"})
    open_function(page, kiln, "two-files")
    page.click("[data-action=new-file]")
    page.fill(".kiln-tree-input", "index.py")
    page.keyboard.press("Enter")
    assert "already a file" in page.inner_text(".kiln-tree-problem")
    page.fill(".kiln-tree-input", "scratch.txt")
    page.keyboard.press("Enter")
    page.wait_for_selector(".kiln-tree-item.is-active[data-name='scratch.txt']")
    assert page.inner_text(".kiln-pane-lang") == "Plain text"
    page.keyboard.insert_text("VALUE = 41\n")
    # Rename scratch.txt to helper.py: now it is Python.
    page.click(".kiln-tree-item[data-name='scratch.txt'] [data-action=rename]")
    page.fill(".kiln-tree-input", "helper.py")
    page.keyboard.press("Enter")
    page.wait_for_selector(".kiln-tree-item.is-active[data-name='helper.py']")
    assert page.inner_text(".kiln-pane-lang") == "Python"
    # A third file, deleted again.
    page.click("[data-action=new-file]")
    page.fill(".kiln-tree-input", "gone.json")
    page.keyboard.press("Enter")
    assert page.inner_text(".kiln-pane-lang") == "JSON"
    page.click(".kiln-tree-item[data-name='gone.json'] [data-action=delete]")
    assert page.locator(".kiln-tree-item[data-name='gone.json']").count() == 0
    # index.py uses the new file.
    screenshot(page, "editor-tree")
    page.click(".kiln-tree-item[data-name='index.py'] [data-action=open]")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text("from helper import VALUE\n\n\ndef handler(event, context):\n    return VALUE + 1\n")
    page.click("input[name=_continue]")
    saved(page)
    assert kiln.code("two-files") == {"index.py": "from helper import VALUE\n\n\ndef handler(event, context):\n    return VALUE + 1\n", "helper.py": "VALUE = 41\n"}
    assert kiln.invoke("two-files", {}) == 42
    page.wait_for_selector(".kiln-tree-item[data-name='helper.py']")
    assert [page.get_attribute(item, "data-name") for item in ["li.kiln-tree-item >> nth=0", "li.kiln-tree-item >> nth=1"]] == ["helper.py", "index.py"]
    assert not page.errors, page.errors


def test_node_runtime_in_add_function_gets_node_starter_and_runs(page, kiln: Kiln) -> None:
    runtime = next((r for r in ("nodejs22.x", "nodejs20.x") if r in kiln.runtimes()), None)
    if runtime is None:
        pytest.skip("no Node.js runtime here")
    page.goto(f"{kiln.url}/console/functions/function/add/")
    page.wait_for_selector(EDITOR)
    page.fill("#id_name", "node-starter")
    page.select_option("#id_runtime", "python3.11")
    assert page.get_attribute(".kiln-tree-item >> nth=0", "data-name") == "index.py"
    page.select_option("#id_runtime", runtime)
    page.wait_for_selector(".kiln-tree-item[data-name='index.mjs']")
    assert page.locator(".kiln-tree-item").count() == 1
    assert page.inner_text(".kiln-pane-lang") == "JavaScript"
    assert editor_text(page) == STARTERS["nodejs"].files["index.mjs"]
    assert page.input_value("#id_handler") == "index.handler"
    assert page.is_hidden(".kiln-handler-warning")
    page.fill("#id_handler", "app.handler")  # no app.js/.mjs/.cjs: said before saving
    assert "needs a file app.js or app.mjs or app.cjs" in page.inner_text(".kiln-handler-warning")
    page.fill("#id_handler", "index.handler")
    assert page.is_hidden(".kiln-handler-warning")
    page.click("input[name=_test]")  # "Save and test" saves, then opens the Test page
    page.wait_for_url(re.compile(r".*/test/$"))
    assert kiln.code("node-starter") == STARTERS["nodejs"].files
    page.fill("#event", '{"from": "browser"}')
    page.click("#invoke")
    page.wait_for_selector("#invoke-result:not([hidden]), #invoke-error:not([hidden])")
    assert page.inner_text("#result-status") == "succeeded", page.inner_text("#result-body") + page.inner_text("#result-logs")
    assert json.loads(page.inner_text("#result-body")) == {"ok": True, "event": {"from": "browser"}}
    # An edited file is not swapped when the runtime changes again.
    page.goto(f"{kiln.url}/console/functions/function/add/")
    page.wait_for_selector(EDITOR)
    page.click(EDITOR)
    page.keyboard.press("Control+Home")
    page.keyboard.type("# mine\n")
    page.select_option("#id_runtime", runtime)
    assert page.get_attribute(".kiln-tree-item >> nth=0", "data-name") == "index.py"
    assert editor_text(page).startswith("# mine\n")
    page.once("dialog", lambda dialog: dialog.accept())
    assert not page.errors, page.errors


def _zip(files: dict[str, bytes]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return base64.b64encode(buffer.getvalue()).decode()


def test_zip_package_files_are_listed_and_shown_read_only(page, kiln: Kiln) -> None:
    files = {"app.py": b"def handler(event, context):\n    return 'zipped'\n", "conf/settings.yaml": b"name: kiln\nlevel: 3\n", "blob.bin": bytes(range(256))}
    kiln.create("zipped", "python3.11", "app.handler", zip_base64=_zip(files))
    pk = function_pk(kiln, page, "zipped")
    page.goto(f"{kiln.url}/console/functions/function/{pk}/change/")
    page.wait_for_selector(".kiln-tree-zip")
    assert page.is_hidden("#zip-files")  # the plain table, for pages without JavaScript
    assert page.locator(".kiln-tree-zip .kiln-tree-item").count() == 3
    page.click(".kiln-tree-zip [data-zip-name='conf/settings.yaml'] button")
    page.wait_for_function("() => window.kilnEditor.view.state.doc.toString().includes('level: 3')")
    assert page.inner_text(".kiln-pane-lang") == "YAML · read-only"
    screenshot(page, "editor-zip")
    page.click(EDITOR)
    page.keyboard.type("typed")
    assert editor_text(page) == "name: kiln\nlevel: 3\n"
    page.click(".kiln-tree-zip [data-zip-name='blob.bin'] button")
    page.wait_for_selector(".kiln-pane-empty:not([hidden])")
    assert "binary file (256 bytes)" in page.inner_text(".kiln-pane-empty")
    page.click(".kiln-tree-zip [data-zip-name='app.py'] button")
    page.wait_for_function("() => window.kilnEditor.view.state.doc.toString().includes('zipped')")
    assert page.is_visible(EDITOR)
    # Saving without inline files keeps the package.
    page.click("input[name=_continue]")
    saved(page)
    assert kiln.code("zipped") is None and kiln.invoke("zipped", {}) == "zipped"
    assert [e for e in page.errors if not e.startswith("415 ")] == [], page.errors  # the binary file's answer


def test_without_javascript_the_plain_rows_still_work(browser, kiln: Kiln) -> None:
    page = signed_in(browser, kiln, java_script_enabled=False)
    try:
        page.goto(f"{kiln.url}/console/functions/function/add/")
        assert page.locator(".kiln-ide").count() == 0 and page.is_visible("textarea[name=code_content]")
        page.fill("#id_name", "plain")
        page.select_option("#id_runtime", "python3.11")
        page.fill("textarea[name=code_content]", "def handler(event, context):\n    return 'plain'\n")
        page.click("input[name=_continue]")
        saved(page)
        assert kiln.code("plain") == {"index.py": "def handler(event, context):\n    return 'plain'\n"}
        assert kiln.invoke("plain", {}) == "plain"
    finally:
        page.context.close()


def test_role_policy_is_edited_as_json(page, kiln: Kiln) -> None:
    page.goto(f"{kiln.url}/console/iam/role/add/")
    page.wait_for_selector(".kiln-cm-single .cm-content")
    assert page.is_hidden("#id_policy_document")
    page.fill("#id_name", "reader")
    page.click(".kiln-cm-single .cm-content")
    page.keyboard.press("Control+a")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    page.keyboard.insert_text(json.dumps(policy, indent=2))
    assert page.locator(".kiln-cm-single .cm-line span[class]").count() > 0  # JSON highlighted
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    status, data = kiln.api("GET", "/api/v1/roles/reader/")
    assert status == 200 and data["policy_document"] == policy
    assert not page.errors, page.errors


@pytest.mark.parametrize(("runtime", "file", "label"), [("java17", "example/Handler.java", "Java"), ("ruby3.3", "lambda_function.rb", "Ruby")])
def test_java_and_ruby_starters_are_highlighted_as_their_language(page, kiln: Kiln, runtime: str, file: str, label: str) -> None:
    if runtime not in kiln.runtimes():
        pytest.skip(f"no {runtime} here")
    page.goto(f"{kiln.url}/console/functions/function/add/")
    page.wait_for_selector(EDITOR)
    page.select_option("#id_runtime", runtime)
    page.wait_for_selector(f".kiln-tree-item[data-name='{file}']")
    assert page.inner_text(".kiln-pane-lang") == label
    # The language's parser ran: keywords (public/class, def/end) are spans of their own with a highlight style.
    keywords = page.eval_on_selector_all(f"{EDITOR} span", "spans => spans.filter(s => ['public', 'class', 'def', 'end'].includes(s.textContent)).length")
    assert keywords >= 2, page.inner_html(EDITOR)[:2000]
    assert not page.errors, page.errors
