"""EventBridge Scheduler over the AWS endpoint with real boto3 clients (rest-json): the schedule operations and errors."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.django_db(transaction=True)
TARGET = {"Arn": "arn:aws:sqs:us-east-1:000000000000:jobs", "RoleArn": "arn:aws:iam::000000000000:role/scheduler", "Input": '{"a": 1}'}


@pytest.fixture
def scheduler(root: Callable[[str], Any]) -> Any:
    return root("scheduler")


def test_schedule_life(scheduler: Any) -> None:
    arn = scheduler.create_schedule(Name="nightly", ScheduleExpression="cron(0 2 * * ? *)", ScheduleExpressionTimezone="Europe/Paris",
                                    FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30}, Target=TARGET,
                                    Description="backup")["ScheduleArn"]
    assert arn == "arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly"
    got = scheduler.get_schedule(Name="nightly")
    assert got["Arn"] == arn and got["GroupName"] == "default" and got["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert got["ScheduleExpressionTimezone"] == "Europe/Paris" and got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30}
    assert got["Target"]["Arn"] == TARGET["Arn"] and got["State"] == "ENABLED" and got["Description"] == "backup"
    assert isinstance(got["CreationDate"], datetime.datetime) and got["ActionAfterCompletion"] == "NONE"
    scheduler.create_schedule(Name="once", ScheduleExpression="at(2030-01-01T00:00:00)", FlexibleTimeWindow={"Mode": "OFF"}, Target=TARGET,
                              ActionAfterCompletion="DELETE", State="DISABLED")
    listed = scheduler.list_schedules()["Schedules"]
    assert [s["Name"] for s in listed] == ["nightly", "once"] and listed[1]["State"] == "DISABLED"
    assert [s["Name"] for s in scheduler.list_schedules(State="ENABLED")["Schedules"]] == ["nightly"]
    page = scheduler.list_schedules(MaxResults=1)
    assert [s["Name"] for s in page["Schedules"]] == ["nightly"]
    assert [s["Name"] for s in scheduler.list_schedules(MaxResults=1, NextToken=page["NextToken"])["Schedules"]] == ["once"]
    scheduler.update_schedule(Name="nightly", ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow={"Mode": "OFF"}, Target=TARGET)
    updated = scheduler.get_schedule(Name="nightly")
    assert updated["ScheduleExpression"] == "rate(5 minutes)" and updated["FlexibleTimeWindow"] == {"Mode": "OFF"}
    scheduler.delete_schedule(Name="nightly")
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException) as info:
        scheduler.get_schedule(Name="nightly")
    assert info.value.response["Error"]["Message"] == "Schedule nightly does not exist."
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.delete_schedule(Name="nightly")


def test_schedule_errors(scheduler: Any) -> None:
    scheduler.create_schedule(Name="s", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"}, Target=TARGET)
    with pytest.raises(scheduler.exceptions.ConflictException):
        scheduler.create_schedule(Name="s", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"}, Target=TARGET)
    for params in ({"ScheduleExpression": "rate(1 minutes)", "FlexibleTimeWindow": {"Mode": "OFF"}},
                   {"ScheduleExpression": "rate(1 minute)", "FlexibleTimeWindow": {"Mode": "OFF"}, "ScheduleExpressionTimezone": "Nowhere/Town"},
                   {"ScheduleExpression": "rate(1 minute)", "FlexibleTimeWindow": {"Mode": "FLEXIBLE"}},
                   {"ScheduleExpression": "cron(0 12 * * * *)", "FlexibleTimeWindow": {"Mode": "OFF"}}):
        with pytest.raises(scheduler.exceptions.ValidationException):
            scheduler.create_schedule(Name="bad", Target=TARGET, **params)
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.create_schedule(Name="g", GroupName="other", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"}, Target=TARGET)
    with pytest.raises(ClientError) as info:
        scheduler.list_schedules(NextToken="***")
    assert info.value.response["Error"]["Code"] == "ValidationException"
