"""EventBridge Scheduler adapter (rest-json, 2021-06-30): Create/Get/Update/Delete/ListSchedules over ``buses.scheduler``.

IAM: ``scheduler:<Operation>`` on the schedule's ARN (``schedule/<group>/<name>``). Only the ``default``
schedule group exists; schedule groups' own operations are not served.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any

from django.conf import settings
from django.http import HttpResponse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.models import service_model
from aws.protocols.restjson import restjson_match, restjson_parse, restjson_response
from aws.registry import handler_for, operation
from buses import scheduler
from buses.models import Schedule
from core.errors import KilnError


def dispatch(ctx: AwsContext, *, verification: object, body: bytes | None) -> HttpResponse:
    model = service_model("scheduler")
    op, labels = restjson_match(model, ctx.request)
    handler = handler_for("scheduler", op.name)
    if handler is None:
        raise AwsError("ValidationException", f"Kiln does not implement Scheduler {op.name} yet.")
    params = restjson_parse(op, ctx.request, labels, body or b"")
    try:
        result = handler(ctx, params)
    except KilnError as error:
        raise AwsError(error.code, error.message, status=error.status, sender=error.status < 500) from None
    except AwsError as error:
        if error.code == "AccessDenied":
            raise AwsError("AccessDeniedException", error.message, status=403) from None
        raise
    return restjson_response(op, result, request_id=ctx.request_id)


def _arn(group: str | None, name: str) -> str:
    return f"arn:aws:scheduler:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:schedule/{group or 'default'}/{name}"


def _when(value: Any) -> datetime.datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromtimestamp(float(value), datetime.UTC)


def _input(params: dict[str, Any]) -> scheduler.ScheduleInput:
    if not params.get("ScheduleExpression"):
        raise AwsError("ValidationException", "ScheduleExpression is a required argument.")
    if params.get("FlexibleTimeWindow") is None or params.get("Target") is None:
        raise AwsError("ValidationException", "FlexibleTimeWindow and Target are required arguments.")
    return scheduler.ScheduleInput(
        expression=params["ScheduleExpression"], target=params["Target"], flexible_window=params["FlexibleTimeWindow"],
        timezone=params.get("ScheduleExpressionTimezone") or "", start_date=_when(params.get("StartDate")), end_date=_when(params.get("EndDate")),
        description=params.get("Description") or "", state=params.get("State") or "ENABLED",
        action_after_completion=params.get("ActionAfterCompletion") or "NONE")


def _out(schedule: Schedule) -> dict[str, Any]:
    window: dict[str, Any] = {"Mode": schedule.flexible_mode}
    if schedule.flexible_window_minutes:
        window["MaximumWindowInMinutes"] = schedule.flexible_window_minutes
    out: dict[str, Any] = {"Arn": schedule.arn, "Name": schedule.name, "GroupName": schedule.group_name, "ScheduleExpression": schedule.expression,
                           "State": schedule.state, "CreationDate": schedule.created_at, "LastModificationDate": schedule.updated_at,
                           "Target": schedule.target, "FlexibleTimeWindow": window, "ActionAfterCompletion": schedule.action_after_completion,
                           "ScheduleExpressionTimezone": schedule.timezone or "UTC"}
    for key, value in (("StartDate", schedule.start_date), ("EndDate", schedule.end_date), ("Description", schedule.description)):
        if value:
            out[key] = value
    return out


@operation("scheduler", "CreateSchedule")
def create_schedule(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("scheduler:CreateSchedule", _arn(params.get("GroupName"), params.get("Name") or ""))
    schedule = scheduler.schedule_create(name=params.get("Name") or "", group=params.get("GroupName"), data=_input(params))
    return {"ScheduleArn": schedule.arn}


@operation("scheduler", "UpdateSchedule")
def update_schedule(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("scheduler:UpdateSchedule", _arn(params.get("GroupName"), params.get("Name") or ""))
    schedule = scheduler.schedule_update(name=params.get("Name") or "", group=params.get("GroupName"), data=_input(params))
    return {"ScheduleArn": schedule.arn}


@operation("scheduler", "GetSchedule")
def get_schedule(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("scheduler:GetSchedule", _arn(params.get("GroupName"), params.get("Name") or ""))
    return _out(scheduler.schedule_get(name=params.get("Name") or "", group=params.get("GroupName")))


@operation("scheduler", "DeleteSchedule")
def delete_schedule(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("scheduler:DeleteSchedule", _arn(params.get("GroupName"), params.get("Name") or ""))
    scheduler.schedule_delete(name=params.get("Name") or "", group=params.get("GroupName"))
    return {}


@operation("scheduler", "ListSchedules")
def list_schedules(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("scheduler:ListSchedules", _arn(params.get("GroupName"), "*"))
    size = params.get("MaxResults") or 100
    if not 1 <= size <= 100:
        raise AwsError("ValidationException", "MaxResults must be between 1 and 100.")
    after = ""
    if params.get("NextToken"):
        try:
            after = base64.urlsafe_b64decode(params["NextToken"].encode()).decode()
            if not after or base64.urlsafe_b64encode(after.encode()).decode() != params["NextToken"]:
                raise ValueError(params["NextToken"])
        except (binascii.Error, ValueError):
            raise AwsError("ValidationException", "The NextToken is not valid.") from None
    found = [s for s in scheduler.schedule_list(group=params.get("GroupName"), prefix=params.get("NamePrefix") or "", state=params.get("State"))
             if s.name > after]
    shown = found[:size]
    out: dict[str, Any] = {"Schedules": [{"Arn": s.arn, "Name": s.name, "GroupName": s.group_name, "State": s.state, "CreationDate": s.created_at,
                                          "LastModificationDate": s.updated_at, "Target": {"Arn": s.target.get("Arn", "")}} for s in shown]}
    if len(found) > size:
        out["NextToken"] = base64.urlsafe_b64encode(shown[-1].name.encode()).decode()
    return out
