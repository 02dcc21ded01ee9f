"""The console's bucket browser in headless Chromium: upload several files, see progress and the invocations."""

from __future__ import annotations

import os

import pytest

from events.services import bucket_notifications_put
from storage.models import Bucket, Object

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture
def page(live_server):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context()
        yield context.new_page()
        context.close()
        browser.close()


def test_upload_several_files_with_progress_and_see_invocations(live_server, page, owner, make_function, worker, tmp_path):
    from playwright.sync_api import expect

    make_function("thumbnail")
    bucket = Bucket.objects.create(name="photos")
    bucket_notifications_put(user=owner, bucket=bucket, configurations=[{"id": "all", "events": ["s3:ObjectCreated:*"], "function": "thumbnail"}])
    files = []
    for name, size in [("one.txt", 10), ("two words.txt", 2000), ("big.bin", 3 * 1024 * 1024)]:
        path = tmp_path / name
        path.write_bytes(b"z" * size)
        files.append(str(path))

    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", "kiln-pass-123")
    page.click("input[type=submit]")
    page.goto(live_server.url + "/console/storage/bucket/browse/photos/")
    expect(page.locator("#objects")).to_contain_text("Empty")
    page.set_input_files("#dropzone input[type=file]", files)

    uploads = page.locator("li.kb-upload")
    expect(uploads).to_have_count(3)
    for index in range(3):
        expect(uploads.nth(index).locator(".kb-upload-status")).to_have_text("done", timeout=20_000)
        assert uploads.nth(index).locator("progress").get_attribute("value") is not None
    assert page.eval_on_selector_all("li.kb-upload progress", "bars => bars.map(b => b.value)") == [100, 100, 100]
    assert sorted(Object.objects.values_list("key", flat=True)) == ["big.bin", "one.txt", "two words.txt"]

    expect(page.locator("a.kb-object")).to_have_count(3)
    page.click("a.kb-object[data-key='two words.txt']")
    expect(page.locator("#detail-key")).to_have_text("two words.txt")
    invocation = page.locator("#detail-invocations tr.kb-invocation")
    expect(invocation).to_have_count(1)
    expect(invocation).to_contain_text("thumbnail")
    expect(invocation).to_contain_text("ObjectCreated:Put")
    # the worker runs it; reopening the details shows it finished
    for _ in range(50):
        page.click("a.kb-object[data-key='two words.txt']")
        if page.locator("#detail-invocations .kb-status").inner_text() == "succeeded":
            break
        page.wait_for_timeout(300)
    from invoker.models import Invocation

    rows = list(Invocation.objects.values("id", "status", "attempt", "worker", "trigger_detail__key", "queued_at", "started_at"))
    assert page.locator("#detail-invocations .kb-status").inner_text() == "succeeded", rows
