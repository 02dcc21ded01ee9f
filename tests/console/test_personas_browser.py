"""Personas in a real headless Chromium, against Kiln as ``make run`` starts it: an administrator adds a
teammate as a Viewer through the console, the viewer signs in and reads a function without its secret;
the administrator's own form masks the value until Show is pressed."""

from __future__ import annotations

import re
import secrets

import pytest

from tests import handlers
from tests.browser import logged_in
from tests.stack import Stack

pytestmark = pytest.mark.browser


def test_an_administrator_adds_a_viewer_who_reads_without_secrets(kiln_stack: Stack) -> None:
    from playwright.sync_api import expect

    stack = kiln_stack
    files, handler = handlers.code("echo", "python3.11")
    name = stack.unique("persona")
    stack.api("POST", "/functions/", {"name": name, "runtime": "python3.11", "handler": handler, "code": {"files": files},
                                      "environment": {"API_TOKEN": "planted-browser-secret"}}, expect=201)
    login, password = stack.unique("viewer"), secrets.token_urlsafe(12)
    with logged_in(stack) as admin:
        page = admin.page
        admin.goto("/console/auth/user/add/")
        page.fill("#id_username", login)
        page.fill("#id_password1", password)
        page.fill("#id_password2", password)
        page.click("input[name=_continue]")
        page.wait_for_url(re.compile(r".*/console/auth/user/\d+/change/$"))
        page.dblclick("#id_groups_from option:text-is('Viewers')")  # Django's two-box group picker
        expect(page.locator("#id_groups_to option")).to_have_text(["Viewers"])
        page.click("input[name=_save]")
        page.wait_for_selector(".messagelist .success")
        # the administrator's own view: the value is there, masked until shown
        admin.goto("/console/functions/function/")
        page.click(f"text={name}")
        value = page.locator("input[name=env_value]").first
        expect(value).to_have_attribute("type", "password")
        page.click("button[data-reveal]")
        expect(value).to_have_attribute("type", "text")
        expect(value).to_have_value("planted-browser-secret")
        expect(page.locator("button[data-reveal]")).to_have_text("Hide")
        assert admin.problems == [], "\n".join(admin.problems)
    with logged_in(stack, login, password) as viewer:
        page = viewer.page
        viewer.goto("/console/functions/function/")
        expect(page.locator("#result_list")).to_contain_text(name)
        assert page.locator("a.button:text-is('Test')").count() == 0
        page.click(f"text={name}")
        expect(page.locator("#read-only-note")).to_contain_text("environment variable values are hidden")
        assert "planted-browser-secret" not in page.content()
        assert page.locator("input[name=_save]").count() == 0
        expect(page.locator("#id_handler")).to_be_disabled()  # every control, through the disabled fieldset around them
        viewer.screenshot("viewer-function")
        viewer.goto("/console/auth/user/")
        assert "403" in page.title() or "Forbidden" in page.content()
        assert viewer.problems == [], "\n".join(viewer.problems)
