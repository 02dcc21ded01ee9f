"""EventBridge over the AWS endpoint with real boto3 clients (awsJson 1.1): every operation, its errors and limits."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from buses import limits
from buses.models import Delivery
from iam.credentials import access_key_create

pytestmark = pytest.mark.django_db(transaction=True)
ACCOUNT = "000000000000"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"
EVENT = {"id": "1", "account": ACCOUNT, "source": "shop", "time": "2026-03-01T10:00:00Z", "region": "us-east-1", "detail-type": "Order",
         "resources": [], "detail": {"total": 20, "ip": "10.1.2.3"}}


@pytest.fixture
def events(root: Callable[[str], Any]) -> Any:
    return root("events")


def _error(info: Any) -> tuple[str, str]:
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_buses(events: Any) -> None:
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default"]
    default = events.describe_event_bus()
    assert default["Name"] == "default" and default["Arn"] == f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"
    arn = events.create_event_bus(Name="orders", Description="the orders")["EventBusArn"]
    assert arn == f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/orders"
    assert events.describe_event_bus(Name=arn)["Description"] == "the orders"
    for name in ("default", "orders"):
        with pytest.raises(events.exceptions.ResourceAlreadyExistsException) as info:
            events.create_event_bus(Name=name)
        assert _error(info) == ("ResourceAlreadyExistsException", f"Event bus {name} already exists.")
    events.create_event_bus(Name="other")
    page = events.list_event_buses(Limit=2)
    assert [b["Name"] for b in page["EventBuses"]] == ["default", "orders"] and page["NextToken"]
    assert [b["Name"] for b in events.list_event_buses(Limit=2, NextToken=page["NextToken"])["EventBuses"]] == ["other"]
    assert [b["Name"] for b in events.list_event_buses(NamePrefix="o")["EventBuses"]] == ["orders", "other"]
    with pytest.raises(ClientError) as info:
        events.list_event_buses(Limit=101)
    assert _error(info)[0] == "ValidationException"
    with pytest.raises(ClientError) as info:
        events.delete_event_bus(Name="default")
    assert _error(info)[0] == "ValidationException"
    events.delete_event_bus(Name="orders")
    with pytest.raises(events.exceptions.ResourceNotFoundException) as info:
        events.describe_event_bus(Name="orders")
    assert _error(info) == ("ResourceNotFoundException", "Event bus orders does not exist.")


def test_rules(events: Any) -> None:
    pattern = json.dumps({"source": ["shop"]})
    arn = events.put_rule(Name="r1", EventPattern=pattern, Description="d", Tags=[{"Key": "team", "Value": "a"}])["RuleArn"]
    assert arn == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/r1"
    described = events.describe_rule(Name="r1")
    assert {k: described[k] for k in ("Name", "Arn", "EventPattern", "State", "Description", "EventBusName", "CreatedBy")} == {
        "Name": "r1", "Arn": arn, "EventPattern": pattern, "State": "ENABLED", "Description": "d", "EventBusName": "default", "CreatedBy": ACCOUNT}
    assert "ScheduleExpression" not in described
    events.put_rule(Name="r2", ScheduleExpression="rate(5 minutes)", State="DISABLED")
    events.put_rule(Name="other", EventPattern=pattern)
    assert events.describe_rule(Name="r2")["State"] == "DISABLED"
    events.enable_rule(Name="r2")
    assert events.describe_rule(Name="r2")["State"] == "ENABLED"
    events.disable_rule(Name="r2")
    assert events.describe_rule(Name="r2")["State"] == "DISABLED"
    assert [r["Name"] for r in events.list_rules()["Rules"]] == ["other", "r1", "r2"]
    assert [r["Name"] for r in events.list_rules(NamePrefix="r")["Rules"]] == ["r1", "r2"]
    page = events.list_rules(Limit=1)
    assert [r["Name"] for r in page["Rules"]] == ["other"]
    page = events.list_rules(Limit=1, NextToken=page["NextToken"])
    assert [r["Name"] for r in page["Rules"]] == ["r1"]
    with pytest.raises(ClientError) as info:
        events.list_rules(NextToken="***")
    assert _error(info)[0] == "ValidationException"
    # a custom bus, by name and by ARN
    bus_arn = events.create_event_bus(Name="custom")["EventBusArn"]
    custom_arn = events.put_rule(Name="c", EventPattern=pattern, EventBusName=bus_arn)["RuleArn"]
    assert custom_arn == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/custom/c"
    assert events.describe_rule(Name="c", EventBusName="custom")["EventBusName"] == "custom"
    assert [r["Name"] for r in events.list_rules(EventBusName="custom")["Rules"]] == ["c"]
    # put again: replaced
    events.put_rule(Name="r1", EventPattern=json.dumps({"source": ["other"]}))
    assert json.loads(events.describe_rule(Name="r1")["EventPattern"]) == {"source": ["other"]}
    events.delete_rule(Name="other")
    events.delete_rule(Name="never-was")  # not an error
    with pytest.raises(events.exceptions.ResourceNotFoundException) as info:
        events.describe_rule(Name="other")
    assert _error(info) == ("ResourceNotFoundException", "Rule other does not exist on EventBus default.")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.enable_rule(Name="other")
    with pytest.raises(events.exceptions.ResourceNotFoundException) as info:
        events.put_rule(Name="x", EventPattern=pattern, EventBusName="nope")
    assert _error(info)[1] == "Event bus nope does not exist."


def test_put_rule_errors(events: Any) -> None:
    cases = [
        ({"Name": "r"}, "ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified."),
        ({"Name": "r", "EventPattern": '{"source": "shop"}'}, "InvalidEventPatternException",
         'Event pattern is not valid. Reason: "source" must be an object or an array'),
        ({"Name": "r", "EventPattern": '{"source": []}'}, "InvalidEventPatternException", "Event pattern is not valid. Reason: Empty arrays are not allowed"),
        ({"Name": "r", "EventPattern": '{"a": [{"numeric": [">", 5, ">", 6]}]}'}, "InvalidEventPatternException",
         "Event pattern is not valid. Reason: Bad numeric range operator: >"),
        ({"Name": "r", "ScheduleExpression": "rate(1 minutes)"}, "ValidationException", "Parameter ScheduleExpression is not valid."),
        ({"Name": "r", "ScheduleExpression": "cron(0 12 * * * *)"}, "ValidationException", "Parameter ScheduleExpression is not valid."),
        ({"Name": "bad name!", "EventPattern": '{"a": ["b"]}'}, "ValidationException", None),
        ({"Name": "x" * 65, "EventPattern": '{"a": ["b"]}'}, "ValidationException", None),
        ({"Name": "r", "EventPattern": '{"a": ["' + "b" * limits.EVENT_PATTERN_MAX + '"]}'}, "ValidationException", None),
    ]
    for params, code, message in cases:
        with pytest.raises(ClientError) as info:
            events.put_rule(**params)
        assert _error(info)[0] == code, params
        if message:
            assert _error(info)[1] == message
    assert events.put_rule(Name="x" * 64, EventPattern='{"a": ["b"]}')["RuleArn"].endswith("x" * 64)
    events.create_event_bus(Name="custom")
    with pytest.raises(ClientError) as info:
        events.put_rule(Name="s", ScheduleExpression="rate(1 minute)", EventBusName="custom")
    assert _error(info) == ("ValidationException", "ScheduleExpression is supported only on the default event bus.")
    for good in ("rate(1 minute)", "rate(2 hours)", "cron(0/5 8-17 ? * MON-FRI *)", "cron(0 0 L * ? *)"):
        events.put_rule(Name="sched", ScheduleExpression=good)


def test_targets(events: Any, root: Callable[[str], Any]) -> None:
    root("sqs").create_queue(QueueName="q")
    events.put_rule(Name="r", EventPattern='{"source": ["shop"]}')
    five = [{"Id": f"t{i}", "Arn": QUEUE_ARN} for i in range(limits.TARGETS_PER_RULE_MAX)]
    result = events.put_targets(Rule="r", Targets=five)
    assert result["FailedEntryCount"] == 0 and result["FailedEntries"] == []
    with pytest.raises(events.exceptions.LimitExceededException) as info:
        events.put_targets(Rule="r", Targets=[{"Id": "t5", "Arn": QUEUE_ARN}])
    assert _error(info) == ("LimitExceededException", "The requested resource exceeds the maximum number allowed.")
    listed = events.list_targets_by_rule(Rule="r")["Targets"]
    assert [t["Id"] for t in listed] == [f"t{i}" for i in range(5)] and listed[0]["Arn"] == QUEUE_ARN
    page = events.list_targets_by_rule(Rule="r", Limit=2)
    assert [t["Id"] for t in page["Targets"]] == ["t0", "t1"] and page["NextToken"]
    events.remove_targets(Rule="r", Ids=["t1", "t2", "t3", "t4"])
    full = {"Id": "full", "Arn": QUEUE_ARN, "InputTransformer": {"InputPathsMap": {"s": "$.source"}, "InputTemplate": '{"s": <s>}'},
            "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}, "DeadLetterConfig": {"Arn": QUEUE_ARN}}
    assert events.put_targets(Rule="r", Targets=[full, {"Id": "in", "Arn": QUEUE_ARN, "Input": '{"k": 1}'},
                                                 {"Id": "path", "Arn": QUEUE_ARN, "InputPath": "$.detail"}])["FailedEntryCount"] == 0
    by_id = {t["Id"]: t for t in events.list_targets_by_rule(Rule="r")["Targets"]}
    assert by_id["full"]["InputTransformer"] == full["InputTransformer"] and by_id["full"]["RetryPolicy"] == full["RetryPolicy"]
    assert by_id["full"]["DeadLetterConfig"] == {"Arn": QUEUE_ARN} and by_id["in"]["Input"] == '{"k": 1}' and by_id["path"]["InputPath"] == "$.detail"
    unsupported = events.put_targets(Rule="r", Targets=[{"Id": "ec2", "Arn": "arn:aws:ec2:us-east-1:000000000000:instance/i-1"}])
    assert unsupported["FailedEntryCount"] == 1 and unsupported["FailedEntries"][0]["TargetId"] == "ec2"
    assert unsupported["FailedEntries"][0]["ErrorCode"] == "ValidationException"
    for bad in ({"Id": "b", "Arn": QUEUE_ARN, "Input": "{nope"}, {"Id": "b", "Arn": QUEUE_ARN, "Input": "1", "InputPath": "$.a"},
                {"Id": "b", "Arn": QUEUE_ARN, "RetryPolicy": {"MaximumRetryAttempts": 186}},
                {"Id": "b", "Arn": QUEUE_ARN, "RetryPolicy": {"MaximumEventAgeInSeconds": 86401}},
                {"Id": "b", "Arn": QUEUE_ARN, "InputTransformer": {"InputPathsMap": {"x": "nope"}, "InputTemplate": "<x>"}}):
        with pytest.raises(ClientError) as info:
            events.put_targets(Rule="r", Targets=[bad])
        assert _error(info)[0] == "ValidationException", bad
    assert events.list_rule_names_by_target(TargetArn=QUEUE_ARN)["RuleNames"] == ["r"]
    assert events.list_rule_names_by_target(TargetArn="arn:aws:sqs:us-east-1:000000000000:none")["RuleNames"] == []
    with pytest.raises(ClientError) as info:
        events.delete_rule(Name="r")
    assert _error(info) == ("ValidationException", "Rule can't be deleted since it has targets.")
    with pytest.raises(events.exceptions.ResourceNotFoundException) as info:
        events.put_targets(Rule="missing", Targets=[{"Id": "a", "Arn": QUEUE_ARN}])
    assert _error(info)[1] == "Rule missing does not exist on EventBus default."
    events.remove_targets(Rule="r", Ids=[t["Id"] for t in events.list_targets_by_rule(Rule="r")["Targets"]])
    events.delete_rule(Name="r")


def test_put_events(events: Any, root: Callable[[str], Any]) -> None:
    root("sqs").create_queue(QueueName="q")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["shop"], "detail": {"total": [{"numeric": [">", 10]}]}}))
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": QUEUE_ARN}])
    entry = {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"total": 20})}
    out = events.put_events(Entries=[entry, {**entry, "Detail": "[]"}, {"Source": "shop", "DetailType": "Order"}, {**entry, "Source": "aws.s3"},
                                     {**entry, "EventBusName": "nope"}])
    assert out["FailedEntryCount"] == 4
    first, malformed, missing, reserved, no_bus = out["Entries"]
    assert set(first) == {"EventId"}
    assert malformed == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert missing == {"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument."}
    assert reserved["ErrorCode"] == "NotAuthorizedForSourceException"
    assert no_bus["ErrorCode"] == "ResourceNotFoundException"
    delivery = Delivery.objects.get()
    assert delivery.event_id == first["EventId"] and json.loads(delivery.event)["detail"] == {"total": 20}
    # 10 entries are accepted, 11 refused; the 256 KB boundary as AWS counts it
    assert events.put_events(Entries=[entry] * 10)["FailedEntryCount"] == 0
    with pytest.raises(ClientError) as info:
        events.put_events(Entries=[entry] * 11)
    assert _error(info)[0] == "ValidationException"
    room = limits.PUT_EVENTS_SIZE_MAX - len("shop") - len("Order") - len('{"k": ""}')
    assert events.put_events(Entries=[{**entry, "Detail": json.dumps({"k": "x" * room})}])["FailedEntryCount"] == 0
    with pytest.raises(ClientError) as info:
        events.put_events(Entries=[{**entry, "Detail": json.dumps({"k": "x" * (room + 1)})}])
    assert _error(info) == ("ValidationException", "Total size of the entries in the request is over the limit.")
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    stamped = events.put_events(Entries=[{**entry, "Time": when, "Resources": ["arn:aws:shop:order/1"]}])["Entries"][0]["EventId"]
    event = json.loads(Delivery.objects.get(event_id=stamped).event)
    assert event["time"] == "2026-01-02T03:04:05Z" and event["resources"] == ["arn:aws:shop:order/1"]


def test_test_event_pattern(events: Any) -> None:
    assert events.test_event_pattern(EventPattern='{"source": ["shop"]}', Event=json.dumps(EVENT))["Result"] is True
    assert events.test_event_pattern(EventPattern='{"detail": {"ip": [{"cidr": "10.0.0.0/8"}]}}', Event=json.dumps(EVENT))["Result"] is True
    assert events.test_event_pattern(EventPattern='{"detail": {"total": [{"numeric": ["<", 5]}]}}', Event=json.dumps(EVENT))["Result"] is False
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.test_event_pattern(EventPattern='{"source": "shop"}', Event=json.dumps(EVENT))
    with pytest.raises(ClientError) as info:
        events.test_event_pattern(EventPattern='{"source": ["shop"]}', Event='{"source": "shop"}')
    assert _error(info)[0] == "ValidationException"


def test_tags(events: Any) -> None:
    rule_arn = events.put_rule(Name="r", EventPattern='{"source": ["shop"]}', Tags=[{"Key": "a", "Value": "1"}])["RuleArn"]
    bus_arn = events.create_event_bus(Name="b", Tags=[{"Key": "x", "Value": "y"}])["EventBusArn"]
    assert events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    assert events.list_tags_for_resource(ResourceARN=bus_arn)["Tags"] == [{"Key": "x", "Value": "y"}]
    events.tag_resource(ResourceARN=rule_arn, Tags=[{"Key": "b", "Value": "2"}])
    events.untag_resource(ResourceARN=rule_arn, TagKeys=["a"])
    assert events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.list_tags_for_resource(ResourceARN=f"arn:aws:events:us-east-1:{ACCOUNT}:rule/none")


def test_iam_is_asked_per_bus_and_rule(make_client: Callable[..., Any], root: Callable[[str], Any]) -> None:
    root("events").put_rule(Name="r", EventPattern='{"source": ["shop"]}')
    from iam.users import user_create, user_policy_put

    user = user_create(name="writer")
    user_policy_put(user=user, name="put", document={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["events:PutEvents", "events:DescribeRule"], "Resource": f"arn:aws:events:us-east-1:{ACCOUNT}:*/default"}]})
    issued = access_key_create(user=user)
    client = make_client("events", (issued.key.access_key_id, issued.secret))
    entry = {"Source": "shop", "DetailType": "Order", "Detail": "{}"}
    assert client.put_events(Entries=[entry])["FailedEntryCount"] == 0
    with pytest.raises(ClientError) as info:
        client.put_events(Entries=[{**entry, "EventBusName": "other"}])
    assert _error(info)[0] == "AccessDeniedException" and "events:PutEvents" in _error(info)[1]
    with pytest.raises(ClientError) as info:
        client.describe_rule(Name="r")
    assert _error(info)[0] == "AccessDeniedException"


def test_put_events_through_boto3_runs_a_function_and_fills_a_queue(events: Any, root: Callable[[str], Any], worker: Any) -> None:
    """End to end over the wire: boto3's PutRule/PutTargets/PutEvents, a real function run, the SQS message read with boto3."""
    import time

    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    from functions.services import Code, FunctionConfig, function_create
    from invoker.models import Invocation, InvocationStatus, Trigger

    function = function_create(name="on-event", config=FunctionConfig(runtime="python3.11", handler="app.handler"),
                               code=Code(files={"app.py": "def handler(event, context):\n    return event\n"}))
    sqs = root("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    events.put_rule(Name="paid", EventPattern=json.dumps({"detail-type": [{"prefix": "Order"}], "detail": {"$or": [
        {"total": [{"numeric": [">", 100]}]}, {"vip": [True]}]}}))
    assert events.put_targets(Rule="paid", Targets=[
        {"Id": "fn", "Arn": function.arn},
        {"Id": "q", "Arn": QUEUE_ARN, "InputTransformer": {"InputPathsMap": {"id": "$.id", "total": "$.detail.total"},
                                                           "InputTemplate": '{"event": "<id>", "total": <total>}'}}])["FailedEntryCount"] == 0
    sent = events.put_events(Entries=[{"Source": "shop", "DetailType": "Order Paid", "Detail": json.dumps({"total": 5, "vip": True})},
                                      {"Source": "shop", "DetailType": "Order Paid", "Detail": json.dumps({"total": 5})}])
    assert sent["FailedEntryCount"] == 0
    event_id = sent["Entries"][0]["EventId"]
    deadline = time.time() + 60
    while time.time() < deadline and not Invocation.objects.filter(trigger=Trigger.BUS, status=InvocationStatus.SUCCEEDED).exists():
        time.sleep(0.2)
    invocation = Invocation.objects.get(trigger=Trigger.BUS)
    assert invocation.status == InvocationStatus.SUCCEEDED, invocation.logs
    parsed = EventBridgeModel(**json.loads(invocation.result))
    assert parsed.id == event_id and parsed.detail_type == "Order Paid" and parsed.detail == {"total": 5, "vip": True}
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)["Messages"]
    assert [json.loads(m["Body"]) for m in got] == [{"event": event_id, "total": 5}]
