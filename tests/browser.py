"""Headless Chromium (Debian's, through Playwright) logged in to a running Kiln stack.

Every page the browser loads is watched: a stylesheet, script, image or font that does not answer 200,
an uncaught exception or a ``console.error`` is recorded in ``Browser.problems`` so tests can assert none.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.stack import Stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
TIMEOUT_MS = 60_000
ASSET_TYPES = {"stylesheet", "script", "image", "font"}


@dataclass
class Browser:
    page: Any
    stack: Stack
    problems: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.stack.url + path)

    def screenshot(self, name: str, selector: str | None = None) -> None:
        """Writes ``<name>.png`` (the page, or the element ``selector`` names) when ``KILN_SCREENSHOTS`` names a
        folder (docs/console/ is made this way)."""
        folder = os.environ.get("KILN_SCREENSHOTS")
        if folder and selector:
            self.page.locator(selector).screenshot(path=os.path.join(folder, f"{name}.png"))
        elif folder:
            self.page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


@contextmanager
def logged_in(stack: Stack, username: str | None = None, password: str | None = None) -> Iterator[Browser]:
    """Chromium signed in as the stack's administrator, or as ``username`` with ``password``."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        watched = Browser(page=page, stack=stack)

        def on_response(response: Any) -> None:
            if response.request.resource_type in ASSET_TYPES and response.status != 200:
                watched.problems.append(f"{response.status} {response.request.resource_type} {response.url} (on {page.url})")

        def on_failed(request: Any) -> None:
            # An image or font aborted because a host interface changed (another process's sandbox network)
            # is the machine, not Kiln; a script or stylesheet aborted that way still fails the test.
            if request.resource_type in ("image", "font") and "ERR_NETWORK_CHANGED" in (request.failure or ""):
                return
            if request.resource_type in ASSET_TYPES:
                watched.problems.append(f"failed {request.resource_type} {request.url}: {request.failure} (on {page.url})")

        page.on("response", on_response)
        page.on("requestfailed", on_failed)
        page.on("pageerror", lambda error: watched.problems.append(f"JavaScript error on {page.url}: {error}"))
        def on_console(message: Any) -> None:
            # Chromium also logs every failed fetch as "Failed to load resource": assets are caught above,
            # and an API call answering 4xx on purpose (a bad event on the Test page) is no script error.
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                watched.problems.append(f"console.error on {page.url}: {message.text} {message.location.get('url', '')}")

        page.on("console", on_console)
        page.goto(f"{stack.url}/console/login/")
        page.fill("#id_username", username or stack.username)
        page.fill("#id_password", password or stack.password)
        page.click("input[type=submit]")
        page.wait_for_url(re.compile(r".*/console/$"))
        try:
            yield watched
        finally:
            context.close()
            browser.close()
