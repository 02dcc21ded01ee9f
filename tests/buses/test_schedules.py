"""Schedule expressions (buses.schedules): rate and cron validation as EventBridge has it, and next ticks in UTC."""

from __future__ import annotations

import datetime

import pytest

from buses.schedules import At, ScheduleError, latest_due, schedule_parse, schedule_valid

UTC = datetime.UTC


def t(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("text", ["rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(2 hours)", "rate(1 day)", "rate(7 days)",
                                  "cron(0 12 * * ? *)", "cron(0/15 * * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)",
                                  "cron(0 10 ? * 6L 2026)", "cron(0 9 ? * 2#1 *)", "cron(0 0 L * ? *)", "cron(0 0 LW * ? *)", "cron(0 0 15W * ? *)",
                                  "cron(5,35 14 * JAN,FEB ? *)", "cron(* * ? * * *)", "cron(0 0 1 1-12/3 ? 2026-2030)", "cron(0 0 ? * FRI-MON *)"])
def test_valid_expressions(text: str) -> None:
    assert schedule_valid(text)


@pytest.mark.parametrize("text", ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(-1 minutes)", "rate(1 week)", "rate(1minute)",
                                  "rate(1.5 hours)", "cron(0 12 * * * *)", "cron(0 12 ? * ? *)", "cron(0 12 * *)", "cron(60 12 * * ? *)",
                                  "cron(0 24 * * ? *)", "cron(0 0 32 * ? *)", "cron(0 0 ? 13 * *)", "cron(0 0 ? * 8 *)", "cron(0 0 1 * ? 1969)",
                                  "cron(0 0 1 * ? 2200)", "cron(0/0 * * * ? *)", "cron(a b c d e f)", "at(2026-01-01T00:00:00)", "", "every minute"])
def test_invalid_expressions(text: str) -> None:
    assert not schedule_valid(text)
    with pytest.raises(ScheduleError):
        schedule_parse(text)


def test_rate_ticks_from_its_anchor_minute() -> None:
    anchor = t(2026, 3, 1, 10, 0, 0)
    rate = schedule_parse("rate(1 minute)", anchor=anchor)
    assert rate.next_after(t(2026, 3, 1, 10, 0, 30)) == t(2026, 3, 1, 10, 1)
    assert rate.next_after(t(2026, 3, 1, 10, 1)) == t(2026, 3, 1, 10, 2)  # strictly after
    five = schedule_parse("rate(5 minutes)", anchor=t(2026, 3, 1, 10, 2, 41))
    assert five.next_after(t(2026, 3, 1, 10, 3)) == t(2026, 3, 1, 10, 7)
    assert schedule_parse("rate(2 hours)", anchor=anchor).next_after(t(2026, 3, 1, 11, 59)) == t(2026, 3, 1, 12)
    assert schedule_parse("rate(1 day)", anchor=anchor).next_after(t(2026, 3, 5, 9)) == t(2026, 3, 5, 10)


def test_cron_next_ticks() -> None:
    assert schedule_parse("cron(0 12 * * ? *)").next_after(t(2026, 3, 1, 12, 0)) == t(2026, 3, 2, 12, 0)
    assert schedule_parse("cron(0/15 * * * ? *)").next_after(t(2026, 3, 1, 10, 7)) == t(2026, 3, 1, 10, 15)
    assert schedule_parse("cron(* * ? * * *)").next_after(t(2026, 3, 1, 10, 7, 30)) == t(2026, 3, 1, 10, 8)
    # 2026-03-06 is a Friday; MON-FRI at 18:00
    weekdays = schedule_parse("cron(0 18 ? * MON-FRI *)")
    assert weekdays.next_after(t(2026, 3, 6, 18, 0)) == t(2026, 3, 9, 18, 0)
    assert schedule_parse("cron(0 0 L * ? *)").next_after(t(2026, 2, 1)) == t(2026, 2, 28)
    assert schedule_parse("cron(0 0 LW * ? *)").next_after(t(2026, 5, 1)) == t(2026, 5, 29)  # May 31 2026 is a Sunday
    assert schedule_parse("cron(0 0 15W * ? *)").next_after(t(2026, 3, 1)) == t(2026, 3, 16)  # the 15th is a Sunday
    assert schedule_parse("cron(0 0 1W * ? *)").next_after(t(2026, 7, 31)) == t(2026, 8, 3)  # Aug 1 is a Saturday: Monday the 3rd
    assert schedule_parse("cron(0 9 ? * 2#1 *)").next_after(t(2026, 3, 1)) == t(2026, 3, 2, 9)  # first Monday
    assert schedule_parse("cron(0 10 ? * 6L *)").next_after(t(2026, 3, 1)) == t(2026, 3, 27, 10)  # last Friday
    assert schedule_parse("cron(0 0 ? * L *)").next_after(t(2026, 3, 1)) == t(2026, 3, 7)  # L alone: Saturday
    assert schedule_parse("cron(0 0 ? * FRI-MON *)").next_after(t(2026, 3, 3)) == t(2026, 3, 6)
    assert schedule_parse("cron(0 0 1 1 ? 2027)").next_after(t(2026, 3, 1)) == t(2027, 1, 1)
    assert schedule_parse("cron(0 0 1 1 ? 2025)").next_after(t(2026, 3, 1)) is None  # past its years
    assert schedule_parse("cron(0 0 29 2 ? *)").next_after(t(2026, 3, 1)) == t(2028, 2, 29)


def test_at_is_one_time() -> None:
    once = schedule_parse("at(2026-05-01T10:30:00)", allow_at=True)
    assert isinstance(once, At)
    assert once.next_after(t(2026, 5, 1)) == t(2026, 5, 1, 10, 30)
    assert once.next_after(t(2026, 5, 1, 10, 30)) is None


def test_latest_due_fires_the_most_recent_missed_tick_once() -> None:
    anchor = t(2026, 3, 1, 0, 0)
    rate = schedule_parse("rate(1 minute)", anchor=anchor)
    assert latest_due(rate, t(2026, 3, 1, 0, 5), t(2026, 3, 1, 0, 5, 0), anchor) == t(2026, 3, 1, 0, 5)
    assert latest_due(rate, t(2026, 3, 1, 0, 5), t(2026, 3, 1, 0, 9, 30), anchor) == t(2026, 3, 1, 0, 9)
    assert latest_due(rate, t(2026, 3, 1, 0, 5), t(2026, 3, 9, 7, 3, 1), anchor) == t(2026, 3, 9, 7, 3)  # a week down
    daily = schedule_parse("cron(0 12 * * ? *)")
    assert latest_due(daily, t(2026, 3, 1, 12), t(2026, 3, 4, 13), None) == t(2026, 3, 4, 12)


def test_cron_and_at_in_a_time_zone() -> None:
    from buses.schedules import next_in_zone, zone_valid

    noon = schedule_parse("cron(0 12 * * ? *)")
    # New York is UTC-5 in January and UTC-4 in July
    assert next_in_zone(noon, t(2026, 1, 10, 0), "America/New_York") == t(2026, 1, 10, 17)
    assert next_in_zone(noon, t(2026, 7, 10, 0), "America/New_York") == t(2026, 7, 10, 16)
    assert next_in_zone(noon, t(2026, 7, 10, 16), "America/New_York") == t(2026, 7, 11, 16)
    once = schedule_parse("at(2026-05-01T09:00:00)", allow_at=True)
    assert next_in_zone(once, t(2026, 4, 1), "Europe/Paris") == t(2026, 5, 1, 7)
    assert next_in_zone(schedule_parse("rate(1 hour)", anchor=t(2026, 1, 1)), t(2026, 1, 1, 0, 30), "Asia/Tokyo") == t(2026, 1, 1, 1)
    assert zone_valid("Europe/Paris") and not zone_valid("Mars/Olympus")
