"""My access keys in a real headless Chromium against Kiln started as `make run` starts it: create a key, see
its secret once (and sign a real boto3 request with what the page showed), reload and see it gone, delete it."""

from __future__ import annotations

import re

import boto3
import pytest
from botocore.config import Config

from tests.browser import logged_in
from tests.stack import Stack

pytestmark = pytest.mark.browser


def test_create_a_key_see_the_secret_once_reload_and_it_is_gone(kiln_stack: Stack) -> None:
    with logged_in(kiln_stack) as browser:
        page = browser.page
        page.click("#user-tools >> text=My access keys")
        page.wait_for_url(re.compile(r".*/console/security-credentials/$"))
        page.click("#create-key")
        page.wait_for_selector("#new-key-secret")
        key_id, secret = page.inner_text("#new-key-id").strip(), page.inner_text("#new-key-secret").strip()
        assert key_id.startswith("AKIA") and len(secret) == 40
        assert secret in page.inner_text("#new-key-profile")
        browser.screenshot("access-keys")
        # what the page showed signs requests: the stack's admin is a superuser, so its IAM user may do this
        s3 = boto3.client("s3", endpoint_url=kiln_stack.url, region_name="us-east-1", aws_access_key_id=key_id, aws_secret_access_key=secret,
                          config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))
        assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
        page.reload()
        page.wait_for_selector("#access-keys")
        assert page.locator("#new-key-secret").count() == 0
        assert secret not in page.content()
        row = page.locator(f'tr[data-key="{key_id}"]')
        assert row.locator(".key-status").inner_text() == "Active"
        assert "(s3)" in row.locator(".key-last-used").inner_text()
        page.once("dialog", lambda dialog: dialog.accept())
        row.locator("button[value=delete]").click()
        page.wait_for_selector(f"text=Access key {key_id} deleted.")
        assert page.locator(f'tr[data-key="{key_id}"]').count() == 0
        assert browser.problems == [], "\n".join(browser.problems)
