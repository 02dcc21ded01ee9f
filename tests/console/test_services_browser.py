"""The AWS services' console pages in a real headless Chromium against Kiln started as `make run` starts it:
a table with items written through boto3, a topic with its subscriptions and deliveries, an event bus rule
with its target, and a log group with events: each listed, opened, and showing what the API wrote."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.browser import logged_in
from tests.stack import Stack

pytestmark = pytest.mark.browser


def _client(stack: Stack, service: str) -> Any:
    return boto3.client(service, endpoint_url=stack.url, region_name="us-east-1", aws_access_key_id=stack.root_key[0],
                        aws_secret_access_key=stack.root_key[1], config=Config(retries={"max_attempts": 1}))


def test_tables_topics_rules_and_log_groups_pages_show_what_the_api_wrote(kiln_stack: Stack) -> None:
    stack = kiln_stack
    table = stack.unique("Users")
    ddb = _client(stack, "dynamodb")
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    for name in ("ann", "bob", "cleo"):
        ddb.put_item(TableName=table, Item={"id": {"S": name}, "score": {"N": str(len(name) * 10)}})
    sns, sqs = _client(stack, "sns"), _client(stack, "sqs")
    topic = sns.create_topic(Name=stack.unique("orders"))["TopicArn"]
    queue_url = sqs.create_queue(QueueName=stack.unique("order-copies"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="order 1")
    events = _client(stack, "events")
    rule = stack.unique("big-orders")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "copy", "Arn": queue_arn}])
    events.put_events(Entries=[{"Source": "shop", "DetailType": "Order", "Detail": "{\"total\": 120}"}])
    logs = _client(stack, "logs")
    group = f"/app/{stack.unique('web')}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="web-1")
    logs.put_log_events(logGroupName=group, logStreamName="web-1", logEvents=[{"timestamp": int(time.time() * 1000), "message": "declined card 4242"}])
    deadline = time.time() + 30  # the SNS and EventBridge deliveries reach the queue
    while time.time() < deadline and int(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
                                         ["Attributes"]["ApproximateNumberOfMessages"]) < 2:
        time.sleep(0.3)

    with logged_in(stack) as browser:
        page = browser.page
        for label, path in (("Tables", "/console/tables/table/"), ("Topics", "/console/topics/topic/"), ("Rules", "/console/buses/rule/"),
                            ("Log groups", "/console/logs/loggroup/")):
            browser.goto("/console/")
            link = page.locator(f"a[href='{path}']").first  # every service is in the dashboard's navigation
            assert link.inner_text().strip() == label
            link.click()
            page.wait_for_url(re.compile(f".*{path}$"))

        browser.goto("/console/tables/table/")
        assert table in page.inner_text("#result_list")
        browser.screenshot("tables", "#content")
        page.click(f"#result_list >> text={table}")
        page.wait_for_load_state("networkidle")
        body = page.inner_text("#content")
        assert "cleo" in body and "NEW_IMAGE" in body
        browser.screenshot("table-items", "#content")
        page.click("#browse-items")  # the item browser: a new item typed as plain JSON, then found by a query
        page.wait_for_selector("#item-editor")
        page.fill("#item-text", json.dumps({"id": "dora", "score": 12.5, "tags": ["new"]}))
        page.click("#item-save")
        page.wait_for_selector("text=Item saved.")
        page.check("input[name=mode][value=query]")
        page.fill("#hash", "dora")
        page.click("#item-search >> input[type=submit]")
        page.wait_for_selector(".item-row")
        assert page.locator(".item-row").count() == 1 and '"score": 12.5' in page.inner_text(".item-json")
        browser.screenshot("table-browser", "#content")
        assert ddb.get_item(TableName=table, Key={"id": {"S": "dora"}})["Item"]["score"] == {"N": "12.5"}
        # PartiQL: a write, then a SELECT listing what it finds
        page.fill("#statement", f"UPDATE \"{table}\" SET score = score + 1 WHERE id = 'ann'")
        page.click("#statement-run")
        page.wait_for_selector("text=Statement ran.")
        page.fill("#statement", f"SELECT id, score FROM \"{table}\" WHERE score >= 31")
        page.click("#statement-run")
        page.wait_for_selector("text=from the statement")
        shown = sorted(json.loads(t)["id"] for t in page.locator(".item-json").all_inner_texts())
        assert shown == ["ann", "cleo"] and '"score": 31' in page.inner_text("#item-results")
        browser.screenshot("table-partiql", "#content")
        assert ddb.get_item(TableName=table, Key={"id": {"S": "ann"}})["Item"]["score"] == {"N": "31"}

        browser.goto("/console/topics/topic/")
        page.click(f"#result_list >> text={topic.rsplit(':', 1)[1]}")
        page.wait_for_load_state("networkidle")
        assert queue_arn in page.inner_text("#content")
        browser.screenshot("topic", "#content")

        browser.goto("/console/buses/rule/")
        page.click(f"#result_list >> text={rule}")
        page.wait_for_load_state("networkidle")
        assert queue_arn in page.inner_text("#content") and "shop" in page.inner_text("#content")

        browser.goto("/console/logs/loggroup/")
        page.click(f"#result_list >> text=\"{group}\"")
        page.wait_for_load_state("networkidle")
        assert "declined card 4242" in page.inner_text("#content") and "web-1" in page.inner_text("#content")
        browser.screenshot("log-group", "#content")
