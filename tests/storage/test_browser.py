"""The console's bucket browser in headless Chromium against Kiln as `make run` starts it: set up a
notification with the form, upload several files with progress, see the invocations they triggered."""

from __future__ import annotations

import pytest

from tests import handlers
from tests.browser import logged_in
from tests.stack import Stack

pytestmark = pytest.mark.browser


def test_notification_form_upload_several_files_with_progress_and_see_invocations(kiln_stack: Stack, tmp_path) -> None:
    from playwright.sync_api import expect

    stack = kiln_stack
    files, handler = handlers.code("echo", "python3.11")
    function = stack.api("POST", "/functions/", {"name": stack.unique("thumbnail"), "runtime": "python3.11", "handler": handler, "code": {"files": files}}, expect=201)
    bucket = stack.unique("photos")
    stack.api("POST", "/buckets/", {"name": bucket}, expect=201)
    paths = []
    for name, size in [("one.txt", 10), ("two words.txt", 2000), ("big.bin", 3 * 1024 * 1024)]:
        path = tmp_path / name
        path.write_bytes(b"z" * size)
        paths.append(str(path))

    with logged_in(stack) as browser:
        page = browser.page
        browser.goto(f"/console/storage/bucket/browse/{bucket}/")
        expect(page.locator("#objects")).to_contain_text("Empty")
        expect(page.locator("#notifications-form")).to_contain_text("No notifications")

        # The notification form: a function picked from the list, event types as boxes, a suffix.
        page.click("#add-notification")
        config = page.locator(".kn-config").first
        config.locator(".kn-id").fill("texts")
        config.locator(".kn-function").select_option(function["name"])
        config.locator(".kn-suffix").fill(".txt")
        page.click("#save-notifications")
        expect(page.locator("#notifications-status")).to_have_text("Saved.")
        saved = stack.api("GET", f"/buckets/{bucket}/notifications/", expect=200)
        assert [(c["id"], c["events"], c["filter"], c["function"]) for c in saved] == [("texts", ["s3:ObjectCreated:*"], {"prefix": "", "suffix": ".txt"}, function["name"])]
        # The JSON view shows the same list, and an error from the API is shown as it comes.
        page.check("#notifications-json-toggle")
        assert '"suffix": ".txt"' in page.input_value("#notifications")
        page.fill("#notifications", '[{"events": ["s3:ObjectCreated:Nope"], "function": "%s"}]' % function["name"])
        page.click("#save-notifications")
        expect(page.locator("#notifications-status")).not_to_have_text("Saving…")
        assert "s3:ObjectCreated:Nope" in page.inner_text("#notifications-status")
        assert len(stack.api("GET", f"/buckets/{bucket}/notifications/", expect=200)) == 1
        page.reload()

        page.set_input_files("#dropzone input[type=file]", paths)
        uploads = page.locator("li.kb-upload")
        expect(uploads).to_have_count(3)
        for index in range(3):
            expect(uploads.nth(index).locator(".kb-upload-status")).to_have_text("done", timeout=20_000)
        assert page.eval_on_selector_all("li.kb-upload progress", "bars => bars.map(b => b.value)") == [100, 100, 100]
        listed = stack.api("GET", f"/buckets/{bucket}/objects/", expect=200)
        assert sorted(o["key"] for o in listed["objects"]) == ["big.bin", "one.txt", "two words.txt"]

        expect(page.locator("a.kb-object")).to_have_count(3)
        page.click("a.kb-object[data-key='two words.txt']")
        expect(page.locator("#detail-key")).to_have_text("two words.txt")
        invocation = page.locator("#detail-invocations tr.kb-invocation")
        expect(invocation).to_have_count(1)
        expect(invocation).to_contain_text(function["name"])
        expect(invocation).to_contain_text("ObjectCreated:Put")
        for _ in range(60):  # the worker runs it; reopening the details shows it finished
            page.click("a.kb-object[data-key='two words.txt']")
            if page.locator("#detail-invocations .kb-status").inner_text() == "succeeded":
                break
            page.wait_for_timeout(300)
        assert page.locator("#detail-invocations .kb-status").inner_text() == "succeeded"
        # big.bin does not match the .txt suffix: nothing triggered.
        page.click("a.kb-object[data-key='big.bin']")
        expect(page.locator("#detail-invocations tr.kb-invocation")).to_have_count(0)
        browser.screenshot("bucket-browser")
        assert browser.problems == [], "\n".join(browser.problems)
