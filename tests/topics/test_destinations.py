"""Asynchronous invocations' destinations on SQS queues and SNS topics, end to end with a real worker and functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from queues.services import queue_create
from tests.conftest import invoke, wait_final
from tests.waiting import queue_bodies
from topics import services

pytestmark = pytest.mark.django_db(transaction=True)



def test_records_go_to_a_queue_and_through_a_topic(api: Any, make_function: Any, worker: Any) -> None:
    make_function("fails", handler="raise")
    make_function("works", handler="echo")
    failures = queue_create(name="failures")
    topic = services.topic_create(name="successes")
    fanned = queue_create(name="fanned")
    services.subscription_create(topic=topic, protocol="sqs", endpoint=fanned.arn, attributes={"RawMessageDelivery": "true"})
    bad = api.put("/api/v1/functions/fails/event-invoke-config/", {"on_failure": "arn:aws:sqs:us-east-1:000000000000:missing"}, format="json")
    assert bad.status_code == 400 and "does not exist" in bad.json()["error"]["message"]
    assert api.put("/api/v1/functions/fails/event-invoke-config/", {"on_failure": failures.arn, "maximum_retry_attempts": 0}, format="json").status_code == 200
    assert api.put("/api/v1/functions/works/event-invoke-config/", {"on_success": topic.arn}, format="json").status_code == 200
    failed_id = invoke(api, "fails", {"why": "testing"}, invocation_type="Event").json()["request_id"]
    ok_id = invoke(api, "works", {"n": 1}, invocation_type="Event").json()["request_id"]
    assert wait_final(api, failed_id, 60)["status"] == "failed" and wait_final(api, ok_id, 60)["status"] == "succeeded"
    [failure] = [json.loads(b) for b in queue_bodies(failures, 1)]
    assert failure["requestContext"]["requestId"] == failed_id and failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestPayload"] == {"why": "testing"} and failure["responseContext"]["functionError"] == "Unhandled"
    [success] = [json.loads(b) for b in queue_bodies(fanned, 1)]
    assert success["requestContext"]["requestId"] == ok_id and success["requestContext"]["condition"] == "Success"
    assert success["responsePayload"] == {"n": 1}
