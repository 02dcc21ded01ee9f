"""EventBridge Scheduler's engine (buses.scheduler): validation, ticks once, flexible windows, one-time schedules."""

from __future__ import annotations

import datetime
import json
import threading

import pytest
from django.db import connection

from buses import scheduler
from buses.delivery import delivery_run
from buses.errors import BusError
from buses.models import Delivery, DeliveryState, Schedule, ScheduleFire
from queues import services as queues
from queues.models import Message

UTC = datetime.UTC
ROLE = "arn:aws:iam::000000000000:role/scheduler"


def _data(expression: str, arn: str, **overrides: object) -> scheduler.ScheduleInput:
    values: dict = {"expression": expression, "target": {"Arn": arn, "RoleArn": ROLE, "Input": '{"job": "nightly"}'},
                    "flexible_window": {"Mode": "OFF"}}
    values.update(overrides)
    return scheduler.ScheduleInput(**values)


@pytest.mark.django_db
def test_validation_and_lookup() -> None:
    arn = "arn:aws:sqs:us-east-1:000000000000:q"
    for data, fragment in [(_data("rate(1 minutes)", arn), "Invalid Schedule Expression"),
                           (_data("rate(1 minute)", arn, timezone="Mars/Olympus"), "Invalid ScheduleExpressionTimezone"),
                           (_data("rate(1 minute)", arn, flexible_window={"Mode": "FLEXIBLE"}), "MaximumWindowInMinutes"),
                           (_data("rate(1 minute)", arn, flexible_window={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441}), "MaximumWindowInMinutes"),
                           (_data("rate(1 minute)", arn, flexible_window={"Mode": "OFF", "MaximumWindowInMinutes": 5}), "MaximumWindowInMinutes"),
                           (_data("rate(1 minute)", arn, target={"Arn": arn}), "RoleArn"),
                           (_data("rate(1 minute)", arn, action_after_completion="KEEP"), "ActionAfterCompletion")]:
        with pytest.raises(BusError) as info:
            scheduler.schedule_create(name="s", group=None, data=data)
        assert info.value.code == "ValidationException" and fragment in info.value.message
    scheduler.schedule_create(name="s", group=None, data=_data("rate(1 minute)", arn,
                                                               flexible_window={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1440}))
    with pytest.raises(BusError) as info:
        scheduler.schedule_create(name="s", group=None, data=_data("rate(1 minute)", arn))
    assert info.value.code == "ConflictException"
    with pytest.raises(BusError) as info:
        scheduler.schedule_get(name="none", group=None)
    assert info.value.code == "ResourceNotFoundException" and info.value.status == 404
    with pytest.raises(BusError) as info:
        scheduler.schedule_create(name="g", group="other", data=_data("rate(1 minute)", arn))
    assert info.value.code == "ResourceNotFoundException"


@pytest.mark.django_db
def test_a_rate_schedule_fires_each_tick_once_to_sqs() -> None:
    queue = queues.queue_create(name="jobs")
    schedule = scheduler.schedule_create(name="every-minute", group=None, data=_data("rate(1 minute)", queue.arn))
    tick = schedule.next_tick_at
    assert tick == schedule.next_fire_at and tick.second == 0
    assert scheduler.scheduler_fire_due(now=tick - datetime.timedelta(seconds=1)) == 0
    assert scheduler.scheduler_fire_due(now=tick) == 1
    assert scheduler.scheduler_fire_due(now=tick) == 0
    delivery = Delivery.objects.get()
    assert delivery_run(str(delivery.pk)) == DeliveryState.SUCCEEDED
    assert json.loads(Message.objects.get(queue=queue).body) == {"job": "nightly"}
    # ten minutes down: the latest missed tick, once
    assert scheduler.scheduler_fire_due(now=tick + datetime.timedelta(minutes=10, seconds=5)) == 1
    assert scheduler.scheduler_fire_due(now=tick + datetime.timedelta(minutes=10, seconds=6)) == 0
    assert list(ScheduleFire.objects.order_by("tick_at").values_list("tick_at", flat=True)) == [tick, tick + datetime.timedelta(minutes=10)]


@pytest.mark.django_db
def test_flexible_window_fires_within_the_window_and_records_it() -> None:
    queue = queues.queue_create(name="jobs")
    schedule = scheduler.schedule_create(name="flex", group=None, data=_data("rate(1 hour)", queue.arn,
                                                                             flexible_window={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}))
    tick, fire = schedule.next_tick_at, schedule.next_fire_at
    assert tick <= fire < tick + datetime.timedelta(minutes=15)
    if fire > tick:
        assert scheduler.scheduler_fire_due(now=tick) == 0  # not before its place in the window
    assert scheduler.scheduler_fire_due(now=fire) == 1
    fired = ScheduleFire.objects.get()
    assert fired.tick_at == tick and fired.fire_at == fire


@pytest.mark.django_db
def test_one_time_schedule_completes_and_deletes_itself() -> None:
    queue = queues.queue_create(name="jobs")
    when = (datetime.datetime.now(UTC) + datetime.timedelta(days=1)).replace(microsecond=0)
    expression = f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})"
    kept = scheduler.schedule_create(name="once", group=None, data=_data(expression, queue.arn))
    gone = scheduler.schedule_create(name="once-delete", group=None, data=_data(expression, queue.arn, action_after_completion="DELETE"))
    assert kept.next_fire_at == when == gone.next_fire_at
    assert scheduler.scheduler_fire_due(now=when + datetime.timedelta(seconds=1)) == 2
    kept.refresh_from_db()
    assert kept.next_fire_at is None and kept.state == "ENABLED"
    assert not Schedule.objects.filter(name="once-delete").exists()
    assert scheduler.scheduler_fire_due(now=when + datetime.timedelta(days=1)) == 0
    assert Delivery.objects.count() == 2


@pytest.mark.django_db
def test_time_zone_and_window_of_dates() -> None:
    queue = queues.queue_create(name="jobs")
    start = datetime.datetime(2030, 1, 10, tzinfo=UTC)
    schedule = scheduler.schedule_create(name="ny-noon", group=None, data=_data("cron(0 12 * * ? *)", queue.arn, timezone="America/New_York",
                                                                                start_date=start, end_date=start + datetime.timedelta(days=2)))
    assert schedule.next_tick_at == datetime.datetime(2030, 1, 10, 17, tzinfo=UTC)
    assert scheduler.scheduler_fire_due(now=datetime.datetime(2030, 1, 11, 17, 0, 1, tzinfo=UTC)) == 1
    schedule.refresh_from_db()
    assert schedule.next_tick_at is None  # the next noon is after the EndDate


@pytest.mark.django_db(transaction=True)
def test_concurrent_firing_of_a_schedule_tick_is_once() -> None:
    queue = queues.queue_create(name="jobs")
    schedule = scheduler.schedule_create(name="c", group=None, data=_data("rate(1 minute)", queue.arn))
    now = schedule.next_fire_at
    barrier = threading.Barrier(4)
    fired: list[int] = []

    def fire() -> None:
        try:
            barrier.wait()
            fired.append(scheduler.scheduler_fire_due(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(fired) == [0, 0, 0, 1] and Delivery.objects.count() == 1 and ScheduleFire.objects.count() == 1
