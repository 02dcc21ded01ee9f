"""Event buses as asynchronous invocations' destinations, end to end with a real worker: the record arrives as
Lambda's "Function Invocation Result" event and the bus's rules route it (here to an SQS queue)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from buses import services
from buses.destinations import destination_event
from queues.services import queue_create
from tests.conftest import invoke, wait_final
from tests.waiting import queue_bodies

pytestmark = pytest.mark.django_db(transaction=True)



def test_the_destination_event_is_lambdas() -> None:
    record = {"requestContext": {"requestId": "r1", "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST", "condition": "RetriesExhausted"}}
    event = destination_event("arn:aws:events:us-east-1:000000000000:event-bus/default", record)
    assert event["source"] == "lambda" and event["detail-type"] == "Lambda Function Invocation Result - Failure" and event["detail"] == record
    assert event["resources"] == ["arn:aws:events:us-east-1:000000000000:event-bus/default", "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST"]
    assert destination_event("x", {"requestContext": {"condition": "Success"}})["detail-type"] == "Lambda Function Invocation Result - Success"


def test_failed_and_successful_records_reach_rules_on_an_event_bus(api: Any, make_function: Any, worker: Any) -> None:
    make_function("bus-fails", handler="raise")
    make_function("bus-works", handler="echo")
    bus = services.bus_create(name="results")
    copies = queue_create(name="result-copies")
    rule = services.rule_put(bus=bus, data=services.RuleInput(name="all-results", event_pattern=json.dumps({"source": ["lambda"]})))
    services.targets_put(rule=rule, targets=[{"Id": "copy", "Arn": copies.arn}])
    missing = api.put("/api/v1/functions/bus-fails/event-invoke-config/", {"on_failure": "arn:aws:events:us-east-1:000000000000:event-bus/nope"}, format="json")
    assert missing.status_code == 400 and "does not exist" in missing.json()["error"]["message"]
    for name, field in (("bus-fails", "on_failure"), ("bus-works", "on_success")):
        config = {field: bus.arn, "maximum_retry_attempts": 0}
        assert api.put(f"/api/v1/functions/{name}/event-invoke-config/", config, format="json").status_code == 200
    failed_id = invoke(api, "bus-fails", {"why": "testing"}, invocation_type="Event").json()["request_id"]
    assert wait_final(api, failed_id, 60)["status"] == "failed"
    ok_id = invoke(api, "bus-works", {"n": 1}, invocation_type="Event").json()["request_id"]
    assert wait_final(api, ok_id, 60)["status"] == "succeeded"
    events = {json.loads(b)["detail"]["requestContext"]["requestId"]: json.loads(b) for b in queue_bodies(copies, 2)}
    assert events[failed_id]["detail-type"] == "Lambda Function Invocation Result - Failure" and events[failed_id]["source"] == "lambda"
    assert events[failed_id]["detail"]["requestPayload"] == {"why": "testing"}
    assert events[ok_id]["detail-type"] == "Lambda Function Invocation Result - Success" and events[ok_id]["detail"]["responsePayload"] == {"n": 1}
