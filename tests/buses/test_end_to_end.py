"""EventBridge end to end with a real worker: PutEvents → a rule → a real Python function (the envelope checked
against aws-lambda-powertools' EventBridgeModel) and an SQS target (InputTransformer output); a schedule's tick
runs the function as a "Scheduled Event" with the schedule as its cause."""

from __future__ import annotations

import json
import time

import pytest

from buses import services
from buses.models import Delivery, DeliveryState
from buses.selectors import bus_default
from functions.services import Code, FunctionConfig, function_create
from invoker.models import Invocation, InvocationStatus, Trigger
from queues import services as queues
from queues.models import Message
from tests.waiting import until

pytestmark = pytest.mark.django_db(transaction=True)

HANDLER = "import json\n\ndef handler(event, context):\n    print(json.dumps(event))\n    return event\n"



def _final(filters: dict) -> Invocation:
    found: list[Invocation] = []

    def done() -> bool:
        found[:] = [i for i in Invocation.objects.filter(**filters) if i.is_final]
        return bool(found)

    until(done)
    return found[0]


def test_put_events_runs_a_function_and_fills_a_queue(worker) -> None:
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    function = function_create(name="on-order", config=FunctionConfig(runtime="python3.11", handler="app.handler"), code=Code(files={"app.py": HANDLER}))
    queue = queues.queue_create(name="order-log")
    rule = services.rule_put(bus=bus_default(), data=services.RuleInput(
        name="orders", event_pattern=json.dumps({"source": ["shop"], "detail": {"total": [{"numeric": [">=", 10]}]}})))
    services.targets_put(rule=rule, targets=[
        {"Id": "fn", "Arn": function.arn},
        {"Id": "log", "Arn": queue.arn, "InputTransformer": {"InputPathsMap": {"total": "$.detail.total", "kind": "$.detail-type"},
                                                             "InputTemplate": '{"total": <total>, "line": "<kind> of <total>"}'}}])
    results = services.events_put([
        {"Source": "shop", "DetailType": "Order Placed", "Detail": json.dumps({"total": 12}), "Resources": ["arn:aws:shop:us-east-1:000000000000:order/7"]},
        {"Source": "shop", "DetailType": "Order Placed", "Detail": json.dumps({"total": 3})},  # matches nothing
    ])
    event_id = results[0].event_id
    invocation = _final({"trigger": Trigger.BUS})
    assert invocation.status == InvocationStatus.SUCCEEDED, invocation.logs
    assert invocation.trigger_detail["event_id"] == event_id and invocation.trigger_detail["rule"] == rule.arn
    assert invocation.trigger_detail["bus"] == "default"
    event = json.loads(invocation.result)
    parsed = EventBridgeModel(**event)
    assert parsed.id == event_id and parsed.source == "shop" and parsed.detail_type == "Order Placed" and parsed.detail == {"total": 12}
    assert parsed.account == "000000000000" and parsed.region == "us-east-1" and parsed.resources == ["arn:aws:shop:us-east-1:000000000000:order/7"]
    assert event["version"] == "0"
    until(lambda: Message.objects.filter(queue=queue).exists())
    assert json.loads(Message.objects.get(queue=queue).body) == {"total": 12, "line": "Order Placed of 12"}
    until(lambda: Delivery.objects.filter(state=DeliveryState.SUCCEEDED).count() == 2)
    assert Delivery.objects.count() == 2  # the small order made none
    assert Invocation.objects.filter(trigger=Trigger.BUS).count() == 1


def test_a_schedule_tick_runs_the_function_once(worker) -> None:
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    function = function_create(name="cron-job", config=FunctionConfig(runtime="python3.11", handler="app.handler"), code=Code(files={"app.py": HANDLER}))
    rule = services.rule_put(bus=bus_default(), data=services.RuleInput(name="every-minute", schedule_expression="rate(1 minute)"))
    services.targets_put(rule=rule, targets=[{"Id": "fn", "Arn": function.arn}])
    rule.refresh_from_db()
    tick = rule.next_fire_at
    assert services.schedules_fire(now=tick) == 1
    assert services.schedules_fire(now=tick) == 0
    invocation = _final({"trigger": Trigger.SCHEDULE})
    assert invocation.status == InvocationStatus.SUCCEEDED, invocation.logs
    event = EventBridgeModel(**json.loads(invocation.result))
    assert event.detail_type == "Scheduled Event" and event.source == "aws.events" and event.resources == [rule.arn] and event.detail == {}
    assert event.time.replace(tzinfo=None) == tick.replace(tzinfo=None)
    assert invocation.trigger_detail["rule"] == rule.arn
    time.sleep(1.0)
    assert Invocation.objects.filter(trigger=Trigger.SCHEDULE).count() == 1
