"""EventBridge Scheduler over the rules' engine: schedules with ``at()``, ``rate()``, ``cron()``, a time zone,
a flexible window, start/end dates and one target, fired once per tick into ``Delivery`` rows.

Each schedule keeps its next nominal tick (``next_tick_at``) and when that tick fires (``next_fire_at``: the
tick, or with ``FlexibleTimeWindow`` FLEXIBLE the tick plus a random offset within the window). Firing
advances both by a conditional update and records the tick in the unique ``ScheduleFire`` row, in the same
transaction as its delivery: once per tick across any number of beats; after downtime only the most recent
missed tick fires. A one-time ``at()`` schedule (or one past its ``EndDate``) completes: with
``ActionAfterCompletion`` DELETE it is deleted. Only the ``default`` schedule group exists.
"""

from __future__ import annotations

import datetime
import json
import random
import re
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from buses import delivery as deliveries
from buses import limits
from buses.errors import BusError
from buses.models import Delivery, Schedule, ScheduleFire
from buses.schedules import ScheduleError, next_in_zone, schedule_parse, zone_valid

_NAME = re.compile(r"^[0-9a-zA-Z\-_.]{1,64}$")
DEFAULT_GROUP = "default"
FLEXIBLE_WINDOW_MAX = 1440


def _invalid(message: str) -> BusError:
    return BusError(message, code="ValidationException")


def _not_found(message: str) -> BusError:
    error = BusError(message, code="ResourceNotFoundException")
    error.status = 404
    return error


def _conflict(message: str) -> BusError:
    error = BusError(message, code="ConflictException")
    error.status = 409
    return error


@dataclass(frozen=True)
class ScheduleInput:
    expression: str
    target: dict[str, Any]
    flexible_window: dict[str, Any]
    timezone: str = ""
    start_date: datetime.datetime | None = None
    end_date: datetime.datetime | None = None
    description: str = ""
    state: str = "ENABLED"
    action_after_completion: str = "NONE"


def _group(group: str | None) -> str:
    name = group or DEFAULT_GROUP
    if name != DEFAULT_GROUP:
        raise _not_found(f"Schedule group {name} does not exist.")
    return name


def _check(data: ScheduleInput) -> dict[str, Any]:
    try:
        schedule_parse(data.expression, allow_at=True)
    except ScheduleError:
        raise _invalid(f"Invalid Schedule Expression {data.expression}.") from None
    if data.timezone and not zone_valid(data.timezone):
        raise _invalid(f"Invalid ScheduleExpressionTimezone {data.timezone}.")
    if data.state not in ("ENABLED", "DISABLED"):
        raise _invalid(f"Invalid State {data.state}: ENABLED or DISABLED.")
    if data.action_after_completion not in ("NONE", "DELETE"):
        raise _invalid(f"Invalid ActionAfterCompletion {data.action_after_completion}: NONE or DELETE.")
    if len(data.description) > 512:
        raise _invalid("Description must be at most 512 characters.")
    mode = data.flexible_window.get("Mode")
    window = data.flexible_window.get("MaximumWindowInMinutes")
    if mode not in ("OFF", "FLEXIBLE"):
        raise _invalid("FlexibleTimeWindow Mode must be OFF or FLEXIBLE.")
    if mode == "FLEXIBLE" and (window is None or not 1 <= window <= FLEXIBLE_WINDOW_MAX):
        raise _invalid(f"MaximumWindowInMinutes must be between 1 and {FLEXIBLE_WINDOW_MAX} when Mode is FLEXIBLE.")
    if mode == "OFF" and window is not None:
        raise _invalid("MaximumWindowInMinutes is only valid when Mode is FLEXIBLE.")
    target = data.target or {}
    if not target.get("Arn") or not target.get("RoleArn"):
        raise _invalid("Target Arn and RoleArn are required.")
    retry = target.get("RetryPolicy") or {}
    if retry.get("MaximumRetryAttempts") is not None and not 0 <= retry["MaximumRetryAttempts"] <= limits.RETRY_ATTEMPTS_MAX:
        raise _invalid(f"MaximumRetryAttempts must be between 0 and {limits.RETRY_ATTEMPTS_MAX}.")
    if retry.get("MaximumEventAgeInSeconds") is not None and not limits.EVENT_AGE_MIN <= retry["MaximumEventAgeInSeconds"] <= limits.EVENT_AGE_MAX:
        raise _invalid(f"MaximumEventAgeInSeconds must be between {limits.EVENT_AGE_MIN} and {limits.EVENT_AGE_MAX}.")
    if data.start_date and data.end_date and data.start_date >= data.end_date:
        raise _invalid("The StartDate must be before the EndDate.")
    return {"expression": data.expression, "timezone": data.timezone, "start_date": data.start_date, "end_date": data.end_date,
            "description": data.description, "state": data.state, "flexible_mode": mode,
            "flexible_window_minutes": window if mode == "FLEXIBLE" else None, "target": target,
            "action_after_completion": data.action_after_completion}


def _next_tick(schedule: Schedule, after: datetime.datetime) -> datetime.datetime | None:
    parsed = schedule_parse(schedule.expression, allow_at=True, anchor=schedule.created_at)
    if schedule.start_date and after < schedule.start_date:
        after = schedule.start_date - datetime.timedelta(microseconds=1)
    tick = next_in_zone(parsed, after, schedule.timezone or None, schedule.created_at)
    if tick is not None and schedule.end_date and tick > schedule.end_date:
        return None
    return tick


def _fire_time(schedule: Schedule, tick: datetime.datetime | None) -> datetime.datetime | None:
    if tick is None or schedule.flexible_mode != "FLEXIBLE" or not schedule.flexible_window_minutes:
        return tick
    return tick + datetime.timedelta(seconds=random.uniform(0, schedule.flexible_window_minutes * 60))


def _plan(schedule: Schedule, now: datetime.datetime | None = None) -> None:
    if schedule.state != "ENABLED":
        schedule.next_tick_at = schedule.next_fire_at = None
        return
    schedule.next_tick_at = _next_tick(schedule, now or timezone.now())
    schedule.next_fire_at = _fire_time(schedule, schedule.next_tick_at)


def schedule_create(*, name: str, group: str | None, data: ScheduleInput) -> Schedule:
    if not _NAME.match(name or ""):
        raise _invalid(f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression "
                       "pattern: ^[0-9a-zA-Z-_.]+$")
    group_name = _group(group)
    fields = _check(data)
    if Schedule.objects.filter(group_name=group_name, name=name).exists():
        raise _conflict(f"Schedule {name} already exists.")
    try:
        with transaction.atomic():
            schedule = Schedule.objects.create(name=name, group_name=group_name, **fields)
            _plan(schedule)
            schedule.save(update_fields=["next_tick_at", "next_fire_at"])
    except IntegrityError:
        raise _conflict(f"Schedule {name} already exists.") from None
    return schedule


def schedule_get(*, name: str, group: str | None) -> Schedule:
    schedule = Schedule.objects.filter(group_name=_group(group), name=name).first()
    if schedule is None:
        raise _not_found(f"Schedule {name} does not exist.")
    return schedule


def schedule_update(*, name: str, group: str | None, data: ScheduleInput) -> Schedule:
    """UpdateSchedule replaces every setting (as AWS: omitted optional settings return to their defaults)."""
    schedule = schedule_get(name=name, group=group)
    for field, value in _check(data).items():
        setattr(schedule, field, value)
    _plan(schedule)
    schedule.save()
    return schedule


def schedule_delete(*, name: str, group: str | None) -> None:
    schedule_get(name=name, group=group).delete()


def schedule_list(*, group: str | None = None, prefix: str = "", state: str | None = None) -> list[Schedule]:
    schedules = Schedule.objects.order_by("name")
    if group:
        schedules = schedules.filter(group_name=group)
    if prefix:
        schedules = schedules.filter(name__startswith=prefix)
    if state:
        schedules = schedules.filter(state=state)
    return list(schedules)


def _latest_tick(schedule: Schedule, tick: datetime.datetime, now: datetime.datetime) -> datetime.datetime:
    if now - tick > datetime.timedelta(days=2):
        jump = _next_tick(schedule, now - datetime.timedelta(days=2))
        if jump is not None and jump <= now:
            tick = jump
    while True:
        following = _next_tick(schedule, tick)
        if following is None or following > now:
            return tick
        tick = following


def _delivery(schedule: Schedule, tick: datetime.datetime, now: datetime.datetime) -> Delivery:
    target = schedule.target
    retry = target.get("RetryPolicy") or {}
    payload = target.get("Input") or "{}"
    event = {"schedule": schedule.arn, "tick": tick.strftime("%Y-%m-%dT%H:%M:%SZ"), "input": payload}
    return Delivery.objects.create(
        event_id=f"{schedule.pk}-{int(tick.timestamp())}", bus_name="", rule=None, rule_arn=schedule.arn, target_id=schedule.name,
        target_arn=target["Arn"], event=json.dumps(event), payload=payload, scheduled=True,
        parameters={k: v for k, v in target.items() if k.endswith("Parameters")},
        retry_attempts=limits.RETRY_ATTEMPTS_DEFAULT if retry.get("MaximumRetryAttempts") is None else retry["MaximumRetryAttempts"],
        max_event_age=retry.get("MaximumEventAgeInSeconds") or limits.EVENT_AGE_DEFAULT,
        dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn") or "", next_attempt_at=min(now, timezone.now()))


def schedule_fire(schedule: Schedule, now: datetime.datetime) -> ScheduleFire | None:
    """Fire the schedule's due tick (the most recent one after downtime) once; ``None`` when not ours."""
    due_fire, due_tick = schedule.next_fire_at, schedule.next_tick_at
    if due_fire is None or due_tick is None or due_fire > now or schedule.state != "ENABLED":
        return None
    tick = _latest_tick(schedule, due_tick, now)
    following = _next_tick(schedule, tick)
    with transaction.atomic():
        advanced = Schedule.objects.filter(pk=schedule.pk, next_fire_at=due_fire, state="ENABLED").update(
            next_tick_at=following, next_fire_at=_fire_time(schedule, following))
        if not advanced:
            return None
        try:
            with transaction.atomic():
                fired = ScheduleFire.objects.create(schedule=schedule, schedule_arn=schedule.arn, tick_at=tick, fire_at=due_fire if tick == due_tick else tick)
        except IntegrityError:
            return None
        row = _delivery(schedule, tick, now)
        ScheduleFire.objects.filter(pk=fired.pk).update(delivery_id=row.pk)
        if following is None and schedule.action_after_completion == "DELETE":
            Schedule.objects.filter(pk=schedule.pk).delete()
        delivery_id = str(row.pk)
        transaction.on_commit(lambda: deliveries.delivery_enqueue([delivery_id]))
    return fired


def scheduler_fire_due(now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    fired = 0
    for schedule in Schedule.objects.filter(next_fire_at__lte=now, state="ENABLED"):
        if schedule_fire(schedule, now) is not None:
            fired += 1
    return fired
