"""Each schedule tick fires once across processes: two separate Python processes (as two beat processes run the
same task) fire the same due ticks at the same moment against one database; one set of deliveries per tick."""

from __future__ import annotations

import datetime
import subprocess
import sys
import time
from pathlib import Path

import pytest

from buses import services
from buses.models import Delivery, ScheduleTick
from buses.selectors import bus_default
from queues import services as queues
from tests.conftest import process_env

ROOT = Path(__file__).resolve().parents[2]
FIRE = """
import datetime, os, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django.setup()
from buses.services import schedules_fire
first, start_at = datetime.datetime.fromisoformat(sys.argv[1]), float(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))  # both processes start firing at the same instant
fired = [schedules_fire(now=first + datetime.timedelta(minutes=m, seconds=0.2)) for m in range(3)]
print(",".join(map(str, fired)))
"""


@pytest.mark.django_db(transaction=True)
def test_two_processes_firing_the_same_ticks_make_one_set_of_deliveries() -> None:
    rule = services.rule_put(bus=bus_default(), data=services.RuleInput(name="two-beats", schedule_expression="rate(1 minute)"))
    queue = queues.queue_create(name="beat-ticks")
    services.targets_put(rule=rule, targets=[{"Id": "q", "Arn": queue.arn}])
    rule.refresh_from_db()
    first = rule.next_fire_at
    start_at = time.time() + 8.0  # after both have imported Django
    runs = [subprocess.Popen([sys.executable, "-c", FIRE, first.isoformat(), str(start_at)], cwd=ROOT, env=process_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err[-2000:] for _, err in outputs]
    per_tick = [sum(int(out.strip().split(",")[m]) for out, _ in outputs) for m in range(3)]
    assert per_tick == [1, 1, 1]  # each tick fired by exactly one of the two processes
    assert ScheduleTick.objects.filter(rule=rule).count() == 3 and Delivery.objects.filter(rule=rule).count() == 3
    assert sorted(ScheduleTick.objects.filter(rule=rule).values_list("tick_at", flat=True)) == [first + datetime.timedelta(minutes=m) for m in range(3)]
