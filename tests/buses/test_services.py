"""The buses domain: rules matching PutEvents, the target payloads, deliveries (retry, DLQ), schedules firing once."""

from __future__ import annotations

import datetime
import json
import re
import threading

import pytest
from django.db import connection

from buses import inputs, limits, services
from buses.delivery import delivery_run
from buses.errors import BusError, TargetFailure
from buses.models import Delivery, DeliveryState, Rule, ScheduleTick
from buses.selectors import bus_default, bus_get, rule_get
from buses.targets import TargetKind, target_kind_register
from queues import services as queues
from queues.models import Message

UTC = datetime.UTC
EVENT = {"version": "0", "id": "e-1", "detail-type": "Order Placed", "source": "shop", "account": "000000000000", "time": "2026-03-01T10:00:00Z",
         "region": "us-east-1", "resources": ["arn:aws:shop:order/1"], "detail": {"order": {"id": 42, "total": 99.5, "items": ["a", "b"]}, "who": "ann"}}


def _entry(**overrides: object) -> dict:
    return {"Source": "shop", "DetailType": "Order Placed", "Detail": json.dumps({"order": {"total": 50}}), **overrides}


def _rule(name: str, pattern: dict | None = None, schedule: str | None = None, bus: str = "default") -> Rule:
    return services.rule_put(bus=bus_get(bus), data=services.RuleInput(name=name, event_pattern=json.dumps(pattern) if pattern else None,
                                                                       schedule_expression=schedule))


# --- pure: inputs ----------------------------------------------------------------------------------------------------

def test_input_path_and_constant_input() -> None:
    arn = "arn:aws:events:us-east-1:000000000000:rule/r"
    assert json.loads(inputs.payload_for(EVENT, rule_arn=arn, rule_name="r")) == EVENT
    assert inputs.payload_for(EVENT, rule_arn=arn, rule_name="r", input_text='{"fixed": 1}') == '{"fixed": 1}'
    assert json.loads(inputs.payload_for(EVENT, rule_arn=arn, rule_name="r", input_path="$.detail.order")) == EVENT["detail"]["order"]
    assert inputs.payload_for(EVENT, rule_arn=arn, rule_name="r", input_path="$.detail.order.items[1]") == '"b"'
    assert inputs.payload_for(EVENT, rule_arn=arn, rule_name="r", input_path="$.detail.nope") == "null"
    assert inputs.path_valid("$") and inputs.path_valid("$.detail['a b']") and not inputs.path_valid("detail.x") and not inputs.path_valid("$..x")


def test_input_transformer_json_and_text_templates() -> None:
    arn = "arn:aws:events:us-east-1:000000000000:rule/r"
    paths = {"id": "$.detail.order.id", "who": "$.detail.who", "items": "$.detail.order.items", "gone": "$.detail.gone"}
    template = '{"order": <id>, "customer": <who>, "items": <items>, "line": "order <id> for <who>", "missing": <gone>, "rule": "<aws.events.rule-name>"}'
    out = json.loads(inputs.payload_for(EVENT, rule_arn=arn, rule_name="r", transformer={"InputPathsMap": paths, "InputTemplate": template}))
    assert out == {"order": 42, "customer": "ann", "items": ["a", "b"], "line": "order 42 for ann", "missing": None, "rule": "r"}
    text = inputs.payload_for(EVENT, rule_arn=arn, rule_name="r", transformer={"InputPathsMap": paths, "InputTemplate": '"<who> ordered <id>"'})
    assert json.loads(text) == "ann ordered 42"
    plain = inputs.payload_for(EVENT, rule_arn=arn, rule_name="r", transformer={"InputPathsMap": paths, "InputTemplate": "<who> ordered <id>"})
    assert plain == "ann ordered 42"
    whole = inputs.payload_for(EVENT, rule_arn=arn, rule_name="r", transformer={"InputTemplate": '{"e": <aws.events.event.json>, "a": "<aws.events.rule-arn>"}'})
    assert json.loads(whole) == {"e": EVENT, "a": arn}
    quoted = inputs.payload_for({"detail": {"q": 'say "hi"'}}, rule_arn=arn, rule_name="r",
                                transformer={"InputPathsMap": {"q": "$.detail.q"}, "InputTemplate": '{"s": "<q>"}'})
    assert json.loads(quoted) == {"s": 'say "hi"'}


# --- buses and rules -------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_default_bus_is_created_on_first_use_and_custom_buses() -> None:
    assert bus_default().name == "default" and bus_default().pk == bus_get(None).pk
    assert bus_get("arn:aws:events:us-east-1:000000000000:event-bus/default").name == "default"
    services.bus_create(name="orders")
    with pytest.raises(BusError) as info:
        services.bus_create(name="orders")
    assert info.value.code == "ResourceAlreadyExistsException"
    with pytest.raises(BusError) as info:
        services.bus_create(name="default")
    assert info.value.code == "ResourceAlreadyExistsException"
    with pytest.raises(BusError) as info:
        services.bus_delete(name="default")
    assert info.value.code == "ValidationException"
    services.bus_delete(name="orders")
    with pytest.raises(BusError) as info:
        bus_get("orders")
    assert (info.value.code, info.value.message) == ("ResourceNotFoundException", "Event bus orders does not exist.")


@pytest.mark.django_db
def test_rule_validation() -> None:
    bus = bus_default()
    cases = [
        (services.RuleInput(name="r"), "ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified."),
        (services.RuleInput(name="r", event_pattern='{"source": "x"}'), "InvalidEventPatternException",
         'Event pattern is not valid. Reason: "source" must be an object or an array'),
        (services.RuleInput(name="r", schedule_expression="rate(1 minutes)"), "ValidationException", "Parameter ScheduleExpression is not valid."),
        (services.RuleInput(name="bad name", event_pattern='{"a": ["b"]}'), "ValidationException", None),
        (services.RuleInput(name="r", event_pattern="{" + " " * limits.EVENT_PATTERN_MAX + '"a": ["b"]}'), "ValidationException", None),
    ]
    for data, code, message in cases:
        with pytest.raises(BusError) as info:
            services.rule_put(bus=bus, data=data)
        assert info.value.code == code, data
        if message:
            assert info.value.message == message
    custom = services.bus_create(name="custom")
    with pytest.raises(BusError) as info:
        services.rule_put(bus=custom, data=services.RuleInput(name="s", schedule_expression="rate(5 minutes)"))
    assert info.value.message == "ScheduleExpression is supported only on the default event bus."
    with pytest.raises(BusError) as info:
        rule_get(bus, "nope")
    assert info.value.message == "Rule nope does not exist on EventBus default."


@pytest.mark.django_db
def test_targets_limits_and_delete_refused_while_targets_exist() -> None:
    rule = _rule("r", {"source": ["shop"]})
    queue = queues.queue_create(name="q")
    five = [{"Id": f"t{i}", "Arn": queue.arn} for i in range(5)]
    assert services.targets_put(rule=rule, targets=five) == []
    assert services.targets_put(rule=rule, targets=five[:1]) == []  # replacing an Id adds nothing
    with pytest.raises(BusError) as info:
        services.targets_put(rule=rule, targets=[{"Id": "t5", "Arn": queue.arn}])
    assert info.value.code == "LimitExceededException"
    failed = services.targets_put(rule=_rule("r2", {"source": ["x"]}), targets=[{"Id": "x", "Arn": "arn:aws:ec2:us-east-1:000000000000:instance/i-1"}])
    assert failed[0]["TargetId"] == "x" and failed[0]["ErrorCode"] == "ValidationException"
    for bad in ({"Id": "a", "Arn": queue.arn, "Input": "{", }, {"Id": "a", "Arn": queue.arn, "Input": "1", "InputPath": "$"},
                {"Id": "a", "Arn": queue.arn, "RetryPolicy": {"MaximumRetryAttempts": 186}},
                {"Id": "a", "Arn": queue.arn, "RetryPolicy": {"MaximumEventAgeInSeconds": 59}},
                {"Id": "a", "Arn": queue.arn, "RetryPolicy": {"MaximumEventAgeInSeconds": 86401}},
                {"Id": "a", "Arn": queue.arn, "DeadLetterConfig": {"Arn": "arn:aws:sns:us-east-1:000000000000:t"}},
                {"Id": "a b", "Arn": queue.arn}):
        with pytest.raises(BusError) as info:
            services.targets_put(rule=_rule("r3", {"source": ["x"]}), targets=[bad])
        assert info.value.code == "ValidationException", bad
    services.targets_put(rule=_rule("r4", {"source": ["x"]}), targets=[{"Id": "edge", "Arn": queue.arn,
                                                                          "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}}])
    with pytest.raises(BusError) as info:
        services.rule_delete(rule=rule)
    assert info.value.message == "Rule can't be deleted since it has targets."
    services.targets_remove(rule=rule, ids=[f"t{i}" for i in range(5)])
    services.rule_delete(rule=rule)
    assert not Rule.objects.filter(pk=rule.pk).exists()


# --- PutEvents -------------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_put_events_per_entry_errors_and_matching() -> None:
    rule = _rule("big-orders", {"source": ["shop"], "detail": {"order": {"total": [{"numeric": [">", 10]}]}}})
    queue = queues.queue_create(name="orders")
    services.targets_put(rule=rule, targets=[{"Id": "q", "Arn": queue.arn}])
    results = services.events_put([
        _entry(), _entry(Detail=json.dumps({"order": {"total": 5}})), _entry(Source=""), _entry(DetailType=None), _entry(Detail=None),
        _entry(Detail="[1]"), _entry(Detail="not json"), _entry(Source="aws.ec2"), _entry(EventBusName="nope"),
        _entry(EventBusName="arn:aws:events:us-east-1:000000000000:event-bus/default"),
    ])
    codes = [r.error_code for r in results]
    assert codes == ["", "", "InvalidArgument", "InvalidArgument", "InvalidArgument", "MalformedDetail", "MalformedDetail",
                     "NotAuthorizedForSourceException", "ResourceNotFoundException", ""]
    assert results[2].error_message == "Parameter Source is not valid. Reason: Source is a required argument."
    assert results[8].error_message == "Event bus nope does not exist."
    assert all(re.fullmatch(r"[0-9a-f-]{36}", r.event_id) for r in results if not r.error_code)
    deliveries = list(Delivery.objects.order_by("created_at"))
    assert [d.event_id for d in deliveries] == [results[0].event_id, results[9].event_id]  # the small order did not match
    event = json.loads(deliveries[0].event)
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert event["detail"] == {"order": {"total": 50}} and event["account"] == "000000000000" and event["resources"] == []


@pytest.mark.django_db
def test_put_events_limits() -> None:
    services.events_put([_entry() for _ in range(limits.PUT_EVENTS_ENTRIES_MAX)])
    with pytest.raises(BusError):
        services.events_put([_entry() for _ in range(limits.PUT_EVENTS_ENTRIES_MAX + 1)])
    with pytest.raises(BusError):
        services.events_put([])
    # the size as AWS computes it: Source + DetailType + Detail (+ 14 for Time, + resources)
    base = len("shop") + len("Order Placed") + len('{"k": ""}')
    at_limit = _entry(Detail=json.dumps({"k": "x" * (limits.PUT_EVENTS_SIZE_MAX - base)}))
    assert services.entry_size(at_limit) == limits.PUT_EVENTS_SIZE_MAX
    services.events_put([at_limit])
    with pytest.raises(BusError) as info:
        services.events_put([_entry(Detail=json.dumps({"k": "x" * (limits.PUT_EVENTS_SIZE_MAX - base + 1)}))])
    assert info.value.message == "Total size of the entries in the request is over the limit."
    assert services.entry_size({**_entry(), "Time": datetime.datetime.now(UTC), "Resources": ["ab", "c"]}) == base - len('{"k": ""}') + len(
        json.dumps({"order": {"total": 50}})) + 14 + 3


@pytest.mark.django_db
def test_disabled_rules_do_not_match_and_test_event_pattern() -> None:
    rule = _rule("r", {"source": ["shop"]})
    queue = queues.queue_create(name="q")
    services.targets_put(rule=rule, targets=[{"Id": "q", "Arn": queue.arn}])
    services.rule_set_state(rule=rule, enabled=False)
    services.events_put([_entry()])
    assert not Delivery.objects.exists()
    assert services.pattern_test('{"source": ["shop"]}', json.dumps(EVENT)) is True
    assert services.pattern_test('{"source": ["other"]}', json.dumps(EVENT)) is False
    with pytest.raises(BusError) as info:
        services.pattern_test('{"source": ["shop"]}', json.dumps({"source": "shop"}))
    assert info.value.code == "ValidationException"
    with pytest.raises(BusError) as info:
        services.pattern_test('{"source": "shop"}', json.dumps(EVENT))
    assert info.value.code == "InvalidEventPatternException"


# --- deliveries ------------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_sqs_target_gets_the_event_and_transformer_output() -> None:
    rule = _rule("r", {"source": ["shop"]})
    plain, shaped = queues.queue_create(name="plain"), queues.queue_create(name="shaped")
    services.targets_put(rule=rule, targets=[{"Id": "plain", "Arn": plain.arn},
                                             {"Id": "shaped", "Arn": shaped.arn, "InputTransformer": {
                                                 "InputPathsMap": {"total": "$.detail.order.total", "src": "$.source"},
                                                 "InputTemplate": '{"total": <total>, "text": "from <src>"}'}}])
    event_id = services.events_put([_entry()])[0].event_id
    for delivery in Delivery.objects.all():
        assert delivery_run(str(delivery.pk)) == DeliveryState.SUCCEEDED
        assert delivery_run(str(delivery.pk)) is None  # finished exactly once
    body = json.loads(Message.objects.get(queue=plain).body)
    assert body["id"] == event_id and body["detail"] == {"order": {"total": 50}}
    assert json.loads(Message.objects.get(queue=shaped).body) == {"total": 50, "text": "from shop"}


@pytest.mark.django_db
def test_a_missing_target_goes_to_the_dlq_at_once_with_eventbridges_attributes() -> None:
    rule = _rule("r", {"source": ["shop"]})
    dlq = queues.queue_create(name="dlq")
    missing = "arn:aws:sqs:us-east-1:000000000000:not-there"
    services.targets_put(rule=rule, targets=[{"Id": "gone", "Arn": missing, "DeadLetterConfig": {"Arn": dlq.arn}}])
    event_id = services.events_put([_entry()])[0].event_id
    delivery = Delivery.objects.get()
    assert delivery_run(str(delivery.pk)) == DeliveryState.DEAD_LETTERED
    message = Message.objects.get(queue=dlq)
    assert json.loads(message.body)["id"] == event_id
    values = {k: v["StringValue"] for k, v in message.attributes.items()}
    assert values["RULE_ARN"] == rule.arn and values["TARGET_ARN"] == missing and values["ERROR_CODE"] == "RESOURCE_NOT_FOUND"
    assert values["ERROR_MESSAGE"]
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.error_code == "RESOURCE_NOT_FOUND" and delivery.finished_at


@pytest.mark.django_db
def test_retries_follow_the_retry_policy_then_the_dlq() -> None:
    calls: list[str] = []

    def flaky(delivery: Delivery) -> dict:
        calls.append(str(delivery.pk))
        raise TargetFailure("THROTTLING", "try again later")

    target_kind_register(TargetKind("test-flaky", re.compile(r"^arn:aws:kiln-test:flaky$"), flaky))
    rule = _rule("r", {"source": ["shop"]})
    dlq = queues.queue_create(name="dlq")
    services.targets_put(rule=rule, targets=[{"Id": "f", "Arn": "arn:aws:kiln-test:flaky", "RetryPolicy": {"MaximumRetryAttempts": 2},
                                              "DeadLetterConfig": {"Arn": dlq.arn}}])
    services.events_put([_entry()])
    delivery = Delivery.objects.get()
    now = delivery.created_at
    states = []
    for _ in range(3):
        now += datetime.timedelta(seconds=120)
        states.append(delivery_run(str(delivery.pk), now=now))
    assert states == [DeliveryState.PENDING, DeliveryState.PENDING, DeliveryState.DEAD_LETTERED] and len(calls) == 3
    attributes = {k: v["StringValue"] for k, v in Message.objects.get(queue=dlq).attributes.items()}
    assert attributes["ERROR_CODE"] == "THROTTLING" and attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "2"
    # a retry is not run before its back-off is over
    services.events_put([_entry()])
    second = Delivery.objects.exclude(pk=delivery.pk).get()
    assert delivery_run(str(second.pk), now=second.created_at) == DeliveryState.PENDING
    assert delivery_run(str(second.pk), now=second.created_at) is None


@pytest.mark.django_db
def test_event_age_ends_retries() -> None:
    target_kind_register(TargetKind("test-down", re.compile(r"^arn:aws:kiln-test:down$"),
                                    lambda d: (_ for _ in ()).throw(TargetFailure("INTERNAL_ERROR", "down"))))
    rule = _rule("r", {"source": ["shop"]})
    services.targets_put(rule=rule, targets=[{"Id": "d", "Arn": "arn:aws:kiln-test:down", "RetryPolicy": {"MaximumEventAgeInSeconds": 60}}])
    services.events_put([_entry()])
    delivery = Delivery.objects.get()
    assert delivery_run(str(delivery.pk), now=delivery.created_at + datetime.timedelta(seconds=59.5)) == DeliveryState.FAILED


@pytest.mark.django_db
def test_bus_to_bus_forwarding() -> None:
    other = services.bus_create(name="other")
    forward = _rule("forward", {"source": ["shop"]})
    services.targets_put(rule=forward, targets=[{"Id": "bus", "Arn": other.arn}])
    queue = queues.queue_create(name="far")
    far = _rule("far", {"detail-type": ["Order Placed"]}, bus="other")
    services.targets_put(rule=far, targets=[{"Id": "q", "Arn": queue.arn}])
    event_id = services.events_put([_entry()])[0].event_id
    assert delivery_run(str(Delivery.objects.get(bus_name="default").pk)) == DeliveryState.SUCCEEDED
    onward = Delivery.objects.get(bus_name="other")
    assert onward.hops == 1 and delivery_run(str(onward.pk)) == DeliveryState.SUCCEEDED
    assert json.loads(Message.objects.get(queue=queue).body)["id"] == event_id


@pytest.mark.django_db
def test_an_sns_target_whose_topic_is_missing_fails_without_retries() -> None:
    rule = _rule("r", {"source": ["shop"]})
    services.targets_put(rule=rule, targets=[{"Id": "t", "Arn": "arn:aws:sns:us-east-1:000000000000:no-such-topic"}])
    services.events_put([_entry()])
    delivery = Delivery.objects.get()
    state = delivery_run(str(delivery.pk))
    delivery.refresh_from_db()
    assert state == DeliveryState.FAILED and delivery.error_code == "RESOURCE_NOT_FOUND" and delivery.attempts == 1


# --- schedules -------------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_schedule_fires_each_tick_once_and_catches_up_once() -> None:
    rule = _rule("every-minute", schedule="rate(1 minute)")
    queue = queues.queue_create(name="ticks")
    services.targets_put(rule=rule, targets=[{"Id": "q", "Arn": queue.arn}])
    rule.refresh_from_db()
    first = rule.next_fire_at
    assert first.second == 0 and first.microsecond == 0
    assert services.schedules_fire(now=first - datetime.timedelta(seconds=1)) == 0
    assert services.schedules_fire(now=first) == 1
    assert services.schedules_fire(now=first + datetime.timedelta(seconds=0.5)) == 0  # the same tick: nothing
    event = json.loads(Delivery.objects.get().event)
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events" and event["resources"] == [rule.arn]
    assert event["detail"] == {} and event["time"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")
    rule.refresh_from_db()
    assert rule.next_fire_at == first + datetime.timedelta(minutes=1)
    # down for 10 minutes: the latest missed tick fires, once
    later = first + datetime.timedelta(minutes=10, seconds=20)
    assert services.schedules_fire(now=later) == 1
    assert services.schedules_fire(now=later) == 0
    assert list(ScheduleTick.objects.filter(rule=rule).order_by("tick_at").values_list("tick_at", flat=True)) == [
        first, first + datetime.timedelta(minutes=10)]
    assert Delivery.objects.count() == 2
    # disabled: no ticks; enabled again: from the next tick on
    services.rule_set_state(rule=rule, enabled=False)
    assert services.schedules_fire(now=later + datetime.timedelta(minutes=5)) == 0


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_firings_of_one_tick_make_one_set_of_deliveries() -> None:
    rule = _rule("concurrent", schedule="rate(1 minute)")
    queue = queues.queue_create(name="ticks")
    services.targets_put(rule=rule, targets=[{"Id": "a", "Arn": queue.arn}, {"Id": "b", "Arn": queue.arn}])
    rule.refresh_from_db()
    tick = rule.next_fire_at
    for round_ in range(3):
        now = tick + datetime.timedelta(minutes=round_, seconds=0.2)
        barrier = threading.Barrier(4)
        fired: list[int] = []

        def fire(barrier: threading.Barrier, fired: list[int], now: datetime.datetime) -> None:
            try:
                barrier.wait()
                fired.append(services.schedules_fire(now=now))
            finally:
                connection.close()

        threads = [threading.Thread(target=fire, args=(barrier, fired, now)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(fired) == [0, 0, 0, 1], fired
    assert ScheduleTick.objects.filter(rule=rule).count() == 3
    assert Delivery.objects.count() == 6  # 3 ticks x 2 targets
    assert sorted(set(Delivery.objects.values_list("event_id", flat=True))) == sorted(ScheduleTick.objects.values_list("event_id", flat=True))


@pytest.mark.django_db
def test_a_tick_already_recorded_never_fires_again_even_if_next_fire_at_is_reset() -> None:
    rule = _rule("reset", schedule="rate(1 minute)")
    rule.refresh_from_db()
    tick = rule.next_fire_at
    assert services.schedules_fire(now=tick) == 1
    Rule.objects.filter(pk=rule.pk).update(next_fire_at=tick)  # e.g. a restored backup
    assert services.schedules_fire(now=tick) == 0
    assert ScheduleTick.objects.filter(rule=rule).count() == 1



@pytest.mark.django_db
def test_sweep_releases_stale_claims_and_requeues_lost_deliveries() -> None:
    from buses.delivery import CLAIM_STALE_S, deliveries_sweep

    rule = _rule("r", {"source": ["shop"]})
    queue = queues.queue_create(name="q")
    services.targets_put(rule=rule, targets=[{"Id": "q", "Arn": queue.arn}])
    services.events_put([_entry()])
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.RUNNING, claimed_at=delivery.created_at)  # a worker died mid-way
    later = delivery.created_at + datetime.timedelta(seconds=CLAIM_STALE_S + 1)
    assert deliveries_sweep(now=later) == 0  # released, due now: not yet "lost"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING
    assert deliveries_sweep(now=later + datetime.timedelta(seconds=60)) == 1
    assert delivery_run(str(delivery.pk), now=later + datetime.timedelta(seconds=60)) == DeliveryState.SUCCEEDED
    assert Message.objects.filter(queue=queue).count() == 1
