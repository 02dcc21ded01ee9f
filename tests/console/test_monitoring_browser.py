"""Monitoring, usage, saved test events and replay in headless Chromium against Kiln as `make run` starts it."""

from __future__ import annotations

import json
import re

import pytest

from tests import handlers
from tests.browser import logged_in
from tests.stack import Stack

pytestmark = pytest.mark.browser


def make(stack: Stack, base: str, handler: str = "echo") -> str:
    files, handler_name = handlers.code(handler, "python3.11")
    return stack.api("POST", "/functions/", {"name": stack.unique(base), "runtime": "python3.11", "handler": handler_name, "code": {"files": files}}, expect=201)["name"]


def test_charts_show_data_points_after_invocations(kiln_stack: Stack) -> None:
    stack = kiln_stack
    name = make(stack, "charted")
    for n in range(3):
        assert stack.request("POST", f"/api/v1/functions/{name}/invoke/", {"n": n}).status == 200
    with logged_in(stack) as browser:
        page = browser.page
        browser.goto("/console/")
        # The worker writes its roll-ups once a second; the chart reads them through the metrics API.
        for _ in range(20):
            page.wait_for_selector("#chart-invocations[data-points]")
            if int(page.get_attribute("#chart-invocations", "data-points")) > 0:
                break
            page.wait_for_timeout(700)
            page.click(".kiln-range button[data-hours='1']")
        assert int(page.get_attribute("#chart-invocations", "data-points")) > 0
        assert page.evaluate("Chart.getChart(document.querySelector('#chart-invocations canvas')).data.datasets[0].data.reduce((a, b) => a + (b || 0), 0)") >= 3
        browser.screenshot("dashboard")
        page.click(".kiln-range button[data-hours='168']")  # 7 days by the hour still draws
        page.wait_for_function("() => Chart.getChart(document.querySelector('#chart-invocations canvas')).data.labels.length >= 168")
        # The function's own page charts only its invocations.
        browser.goto("/console/functions/function/")
        page.click(f"text={name}")
        page.wait_for_selector("#panel-monitoring #chart-invocations[data-points]")
        total = page.evaluate("Chart.getChart(document.querySelector('#panel-monitoring #chart-invocations canvas')).data.datasets[0].data.reduce((a, b) => a + (b || 0), 0)")
        assert total == 3
        series = stack.api("GET", f"/metrics/?metric=Invocations&function={name}", expect=200)
        assert sum(p["value"] for p in series["points"]) == 3
        assert browser.problems == [], "\n".join(browser.problems)


def test_usage_page_matches_the_api(kiln_stack: Stack) -> None:
    stack = kiln_stack
    name = make(stack, "billed")
    assert stack.request("POST", f"/api/v1/functions/{name}/invoke/", {}).status == 200
    with logged_in(stack) as browser:
        page = browser.page
        browser.goto("/console/")
        page.click("#content-related >> text=Usage and cost")  # the dashboard lists every section
        page.wait_for_selector(".kiln-usage[data-loaded]")
        usage = stack.api("GET", "/usage/", expect=200)
        assert page.inner_text("#usage-requests") == str(usage["requests"])
        assert page.inner_text("#usage-gb-seconds") == usage["gb_seconds"]
        assert page.inner_text("#usage-cost") == usage["cost_usd"]
        assert page.inner_text("#usage-price-gb") == usage["prices"]["per_gb_second"]
        row = page.locator("tr.usage-function", has=page.locator(f"td:text-is('{name}')"))
        mine = next(f for f in usage["functions"] if f["name"] == name)
        assert row.locator("td").nth(1).inner_text() == str(mine["requests"]) == "1"
        assert row.locator("td").nth(2).inner_text() == mine["gb_seconds"]
        browser.screenshot("usage")
        page.fill("#usage-month", "2025-01")
        page.click("#usage-month-form button")
        page.wait_for_selector(".kiln-usage[data-loaded='2025-01']")
        assert page.inner_text("#usage-requests") == "0"
        assert browser.problems == [], "\n".join(browser.problems)


def test_saved_test_event_and_template_run_from_the_test_page(kiln_stack: Stack) -> None:
    stack = kiln_stack
    name = make(stack, "tested")
    with logged_in(stack) as browser:
        page = browser.page
        browser.goto("/console/functions/function/")
        page.click(f"text={name}")
        page.click(".object-tools >> text=Test")
        page.wait_for_url(re.compile(r".*/test/$"))
        page.wait_for_selector("#test-event-templates option", state="attached")  # templates loaded
        page.fill("#event", '{"saved": "yes"}')
        page.fill("#test-event-name", "my-event")
        page.check("#test-event-shared")
        page.click("#test-event-save")
        page.wait_for_selector("#test-event-status:text('Saved as a new event.')")
        assert stack.api("GET", f"/functions/{name}/test-events/", expect=200)["test_events"][0]["event"] == {"saved": "yes"}
        # A template fills the box with the S3 event Kiln produces; the saved one comes back when chosen.
        page.select_option("#test-event-select", "template:s3-put")
        assert json.loads(page.input_value("#event"))["Records"][0]["eventSource"] == "aws:s3"
        page.select_option("#test-event-select", "saved:my-event")
        assert json.loads(page.input_value("#event")) == {"saved": "yes"}
        page.click("#invoke")
        page.wait_for_selector("#invoke-result:not([hidden])")
        assert json.loads(page.inner_text("#result-body")) == {"saved": "yes"}
        # An eleventh event is refused with the API's message.
        for n in range(9):
            stack.api("POST", f"/functions/{name}/test-events/", {"name": f"e{n}", "event": {}}, expect=201)
        page.fill("#test-event-name", "one-too-many")
        page.click("#test-event-save")
        page.wait_for_selector("#test-event-status:has-text('10')")
        assert len(stack.api("GET", f"/functions/{name}/test-events/", expect=200)["test_events"]) == 10
        assert browser.problems == [], "\n".join(browser.problems)


def test_replay_creates_a_linked_invocation(kiln_stack: Stack) -> None:
    stack = kiln_stack
    name = make(stack, "replayed")
    original = stack.request("POST", f"/api/v1/functions/{name}/invoke/", {"again": 1}).headers["X-Kiln-Request-Id"]
    with logged_in(stack) as browser:
        page = browser.page
        browser.goto(f"/console/invoker/invocation/{original}/change/")
        page.click("text=Replay on $LATEST")
        page.wait_for_url(lambda url: "/change/" in url and original not in url)
        replay = page.url.rstrip("/").split("/")[-2]
        record = stack.wait_final(replay)
        assert record["status"] == "succeeded" and record["result"] == {"again": 1}
        assert record["cause"]["type"] == "replay" and record["cause"]["parent"]["request_id"] == original
        page.reload()
        assert page.locator(f".kiln-chain-parent a[href*='{original}']").count() == 1
        assert "replay of" in page.inner_text(".kiln-chain-cause")
        assert [c["request_id"] for c in stack.api("GET", f"/invocations/{original}/", expect=200)["caused"]] == [replay]
        browser.goto(f"/console/invoker/invocation/{original}/change/")
        assert page.locator(f".kiln-chain-child a[href*='{replay}']").count() == 1
        browser.screenshot("invocation-chain")
        assert browser.problems == [], "\n".join(browser.problems)
