"""The console's event bus pages: buses, rules with their targets, deliveries, schedules; read-only, bounded queries."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from buses import scheduler, services
from buses.models import Delivery, Rule
from buses.selectors import bus_default
from queues import services as queues


@pytest.fixture
def console(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.mark.django_db
def test_pages_render_with_bounded_queries(console: Client, django_assert_max_num_queries) -> None:
    queue = queues.queue_create(name="q")
    for i in range(10):
        rule = services.rule_put(bus=bus_default(), data=services.RuleInput(name=f"r{i}", event_pattern=json.dumps({"source": ["shop"]})))
        services.targets_put(rule=rule, targets=[{"Id": "q", "Arn": queue.arn}])
    services.rule_put(bus=bus_default(), data=services.RuleInput(name="tick", schedule_expression="rate(1 minute)"))
    services.events_put([{"Source": "shop", "DetailType": "Order", "Detail": "{}"}])
    scheduler.schedule_create(name="s", group=None, data=scheduler.ScheduleInput(
        expression="rate(5 minutes)", target={"Arn": queue.arn, "RoleArn": "arn:aws:iam::000000000000:role/r"}, flexible_window={"Mode": "OFF"}))
    for path in ("/console/buses/eventbus/", "/console/buses/rule/", "/console/buses/delivery/", "/console/buses/schedule/",
                 "/console/buses/scheduletick/", "/console/buses/schedulefire/"):
        with django_assert_max_num_queries(8):
            response = console.get(path)
        assert response.status_code == 200, path
    rule = Rule.objects.get(name="r0")
    page = console.get(f"/console/buses/rule/{rule.pk}/change/")
    assert page.status_code == 200 and queue.arn.encode() in page.content
    delivery = Delivery.objects.first()
    assert console.get(f"/console/buses/delivery/{delivery.pk}/change/").status_code == 200
    assert console.get("/console/buses/rule/add/").status_code == 403
