"""Schedule expressions as EventBridge reads them: ``rate(...)`` and six-field ``cron(...)``; pure, in UTC.

``schedule_parse(text)`` validates (``ScheduleError`` otherwise) and returns a ``Schedule`` whose
``next_after(t)`` is the first tick strictly after ``t`` (ticks fall on whole minutes). Rates tick from an
anchor (the rule's creation minute): ``rate(1 minute)`` singular, ``rate(5 minutes|hours|days)`` plural.
Cron fields: minutes hours day-of-month month day-of-week year; one of day-of-month / day-of-week must be
``?``; ``*``, lists ``a,b``, ranges ``a-b``, steps ``a/n`` and ``*/n``; names JAN-DEC and SUN-SAT (1 = SUN);
``L`` (last day of month / ``nL`` last weekday n of month), ``W`` (``nW`` nearest weekday, ``LW``), ``#``
(``n#k`` the k-th weekday n). ``at(yyyy-mm-ddThh:mm:ss)`` (EventBridge Scheduler's one-time schedules) is
accepted by ``schedule_parse(..., allow_at=True)`` and has one tick.
"""

from __future__ import annotations

import calendar
import datetime
import re
import zoneinfo
from dataclasses import dataclass

UTC = datetime.UTC
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_MONTHS = {name: i for i, name in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
_DAYS = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
SEARCH_YEARS = 8


class ScheduleError(ValueError):
    """An invalid schedule expression."""


def _minute(t: datetime.datetime) -> datetime.datetime:
    return t.astimezone(UTC).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Rate:
    seconds: int
    anchor: datetime.datetime | None = None

    def next_after(self, t: datetime.datetime, anchor: datetime.datetime | None = None) -> datetime.datetime | None:
        base = _minute(anchor or self.anchor or datetime.datetime(2000, 1, 1, tzinfo=UTC))
        if t < base:
            return base
        steps = int((t - base).total_seconds() // self.seconds) + 1
        return base + datetime.timedelta(seconds=steps * self.seconds)


@dataclass(frozen=True)
class At:
    when: datetime.datetime

    def next_after(self, t: datetime.datetime, anchor: datetime.datetime | None = None) -> datetime.datetime | None:
        return self.when if self.when > t else None


def _parse_int(token: str, names: dict[str, int] | None, low: int, high: int) -> int:
    if names and token.upper() in names:
        return names[token.upper()]
    if not token.isdigit():
        raise ScheduleError(token)
    value = int(token)
    if not low <= value <= high:
        raise ScheduleError(token)
    return value


def _parse_set(field: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    values: set[int] = set()
    for part in field.split(","):
        if not part:
            raise ScheduleError(field)
        step, stepped = 1, "/" in part
        if stepped:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(field)
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _parse_int(a, names, low, high), _parse_int(b, names, low, high)
        else:
            start = _parse_int(part, names, low, high)
            end = high if stepped else start
        if start <= end:
            values.update(range(start, end + 1, step))
        else:  # a wrapping range (FRI-MON, NOV-FEB)
            values.update(v for i, v in enumerate([*range(start, high + 1), *range(low, end + 1)]) if i % step == 0)
    return frozenset(values)


@dataclass(frozen=True)
class _DaySpec:
    """Day-of-month or day-of-week: a set, or the special forms."""

    any: bool = False
    values: frozenset[int] = frozenset()
    last: bool = False  # dom L / dow L (Saturday)
    last_weekday: bool = False  # dom LW
    nearest_weekday: int | None = None  # dom nW
    last_of_week: int | None = None  # dow nL
    nth: tuple[int, int] | None = None  # dow n#k


def _dom(field: str) -> _DaySpec:
    if field == "?":
        return _DaySpec(any=True)
    if field == "L":
        return _DaySpec(last=True)
    if field == "LW":
        return _DaySpec(last_weekday=True)
    match = re.fullmatch(r"(\d{1,2})W", field)
    if match:
        return _DaySpec(nearest_weekday=_parse_int(match.group(1), None, 1, 31))
    return _DaySpec(values=_parse_set(field, 1, 31))


def _dow(field: str) -> _DaySpec:
    if field == "?":
        return _DaySpec(any=True)
    if field == "L":
        return _DaySpec(values=frozenset({7}))
    match = re.fullmatch(r"([1-7]|[A-Za-z]{3})L", field)
    if match:
        return _DaySpec(last_of_week=_parse_int(match.group(1), _DAYS, 1, 7))
    match = re.fullmatch(r"([1-7]|[A-Za-z]{3})#([1-5])", field)
    if match:
        return _DaySpec(nth=(_parse_int(match.group(1), _DAYS, 1, 7), int(match.group(2))))
    return _DaySpec(values=_parse_set(field, 1, 7, _DAYS))


def _aws_weekday(day: datetime.date) -> int:
    return (day.isoweekday() % 7) + 1  # SUN=1 ... SAT=7


def _day_matches_dom(spec: _DaySpec, day: datetime.date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if spec.last:
        return day.day == last
    if spec.last_weekday:
        target = datetime.date(day.year, day.month, last)
        while target.isoweekday() > 5:
            target -= datetime.timedelta(days=1)
        return day == target
    if spec.nearest_weekday is not None:
        n = min(spec.nearest_weekday, last)
        target = datetime.date(day.year, day.month, n)
        if target.isoweekday() == 6:  # Saturday: Friday, or Monday when the 1st
            target = target - datetime.timedelta(days=1) if n > 1 else target + datetime.timedelta(days=2)
        elif target.isoweekday() == 7:  # Sunday: Monday, or Friday when the last day
            target = target + datetime.timedelta(days=1) if n < last else target - datetime.timedelta(days=2)
        return day == target
    return day.day in spec.values


def _day_matches_dow(spec: _DaySpec, day: datetime.date) -> bool:
    weekday = _aws_weekday(day)
    if spec.last_of_week is not None:
        return weekday == spec.last_of_week and day.day + 7 > calendar.monthrange(day.year, day.month)[1]
    if spec.nth is not None:
        wanted, k = spec.nth
        return weekday == wanted and (day.day - 1) // 7 + 1 == k
    return weekday in spec.values


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    dom: _DaySpec
    months: frozenset[int]
    dow: _DaySpec
    years: frozenset[int]

    def _day_ok(self, day: datetime.date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        if self.dom.any:
            return _day_matches_dow(self.dow, day)
        return _day_matches_dom(self.dom, day)

    def next_after(self, t: datetime.datetime, anchor: datetime.datetime | None = None) -> datetime.datetime | None:
        start = _minute(t) + datetime.timedelta(minutes=1)
        day = start.date()
        end = day + datetime.timedelta(days=366 * SEARCH_YEARS)
        first = True
        while day <= end:
            if day.year > max(self.years):
                return None
            if self._day_ok(day):
                for hour in sorted(self.hours):
                    if first and hour < start.hour:
                        continue
                    for minute in sorted(self.minutes):
                        if first and hour == start.hour and minute < start.minute:
                            continue
                        return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
            day += datetime.timedelta(days=1)
            first = False
        return None


Schedule = Rate | Cron | At


def _cron(body: str) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleError(body)
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleError("one of day-of-month and day-of-week must be '?'")
    return Cron(minutes=_parse_set(minutes, 0, 59), hours=_parse_set(hours, 0, 23), dom=_dom(dom),
                months=_parse_set(month, 1, 12, _MONTHS), dow=_dow(dow), years=_parse_set(year, 1970, 2199))


def schedule_parse(text: str, *, allow_at: bool = False, anchor: datetime.datetime | None = None) -> Schedule:
    """A validated schedule; ``ScheduleError`` for anything EventBridge would refuse."""
    text = (text or "").strip()
    match = _RATE.match(text)
    if match:
        value, unit = int(match.group(1)), match.group(2)
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ScheduleError(text)
        seconds = value * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
        return Rate(seconds=seconds, anchor=anchor)
    match = _CRON.match(text)
    if match:
        try:
            return _cron(match.group(1).strip())
        except (ValueError, IndexError):
            raise ScheduleError(text) from None
    match = _AT.match(text) if allow_at else None
    if match:
        try:
            return At(datetime.datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC))
        except ValueError:
            raise ScheduleError(text) from None
    raise ScheduleError(text)


def schedule_valid(text: str) -> bool:
    try:
        schedule_parse(text)
    except ScheduleError:
        return False
    return True


def latest_due(schedule: Schedule, first_due: datetime.datetime, now: datetime.datetime,
               anchor: datetime.datetime | None = None) -> datetime.datetime:
    """The most recent tick at or before ``now``, starting from ``first_due`` (a tick <= now): catch-up fires once."""
    tick = first_due
    # A long outage: skip ahead rather than walk every missed minute.
    if now - tick > datetime.timedelta(days=2):
        candidate = schedule.next_after(now - datetime.timedelta(days=2), anchor)
        if candidate is not None and candidate <= now:
            tick = candidate
    while True:
        following = schedule.next_after(tick, anchor)
        if following is None or following > now:
            return tick
        tick = following


def next_in_zone(schedule: Schedule, after: datetime.datetime, zone: str | None = None,
                 anchor: datetime.datetime | None = None) -> datetime.datetime | None:
    """The first tick after ``after`` (UTC) when cron and at() read their fields as wall-clock time in ``zone``."""
    if not zone or zone == "UTC" or isinstance(schedule, Rate):
        return schedule.next_after(after, anchor)
    tz = zoneinfo.ZoneInfo(zone)
    if isinstance(schedule, At):
        when = schedule.when.replace(tzinfo=tz).astimezone(UTC)
        return when if when > after else None
    wall = after.astimezone(tz).replace(tzinfo=UTC)
    candidate = schedule.next_after(wall - datetime.timedelta(hours=3))  # a DST change can move wall time back
    while candidate is not None:
        real = candidate.replace(tzinfo=tz).astimezone(UTC)
        if real > after:
            return real
        candidate = schedule.next_after(candidate)
    return None


def zone_valid(zone: str) -> bool:
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
