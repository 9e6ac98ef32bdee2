"""Free start times: business hours in the company's time zone, minus exceptions and bookings.

Pure functions over plain data so the rules (time zones, daylight-saving changes, buffers,
notice, horizon) are testable without a database. Slots step through *wall-clock* time in the
company's zone (09:00, 09:30, … local, whatever the UTC offset that day) and are compared in
absolute time; a candidate is free when ``[start, start + duration + buffer)`` overlaps no busy
range, which is exactly the exclusion constraint ``service_bookings_no_overlap``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC
Interval = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class Rules:
    time_zone: str = "UTC"
    weekly_hours: dict[int, list[Interval]] = field(default_factory=dict)  # ISO weekday → hours
    exceptions: dict[dt.date, list[Interval]] = field(default_factory=dict)  # [] = closed
    slot_minutes: int = 30
    min_notice_minutes: int = 1440
    horizon_days: int = 60
    buffer_minutes: int = 15

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def zone(name: str) -> ZoneInfo:
    """A time zone by IANA name; ValueError for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def parse_hours(raw: Iterable[Sequence[str]]) -> list[Interval]:
    hours = []
    for start, end in raw:
        opens, closes = dt.time.fromisoformat(start), dt.time.fromisoformat(end)
        if closes <= opens:
            raise ValueError(f"closing time {end} is not after opening time {start}")
        hours.append((opens, closes))
    return sorted(hours)


def _hours_on(rules: Rules, day: dt.date) -> list[Interval]:
    if day in rules.exceptions:
        return rules.exceptions[day]
    return rules.weekly_hours.get(day.isoweekday(), [])


def _candidates(rules: Rules, day: dt.date, duration: dt.timedelta) -> Iterator[dt.datetime]:
    tz = rules.zone
    step = dt.timedelta(minutes=rules.slot_minutes)
    for opens, closes in _hours_on(rules, day):
        start = dt.datetime.combine(day, opens, tzinfo=tz)
        end = dt.datetime.combine(day, closes, tzinfo=tz).astimezone(UTC)
        wall = start
        while True:
            absolute = wall.astimezone(UTC)
            # a wall time inside a spring-forward gap does not exist: skip it
            if absolute.astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None):
                if absolute + duration > end:
                    break
                yield absolute
            wall += step
            if wall.replace(tzinfo=None) >= dt.datetime.combine(day, closes):
                break


def _overlaps(
    start: dt.datetime, end: dt.datetime, busy: Sequence[tuple[dt.datetime, dt.datetime]]
) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in busy)


def free_starts(
    rules: Rules,
    *,
    duration_minutes: int,
    busy: Sequence[tuple[dt.datetime, dt.datetime]],
    window_start: dt.datetime,
    window_end: dt.datetime,
    now: dt.datetime,
) -> list[dt.datetime]:
    """Free start times (UTC) in ``[window_start, window_end)`` for a meeting of that length."""
    earliest = max(window_start, now + dt.timedelta(minutes=rules.min_notice_minutes))
    latest = min(window_end, now + dt.timedelta(days=rules.horizon_days))
    if earliest >= latest:
        return []
    duration = dt.timedelta(minutes=duration_minutes)
    blocked = duration + dt.timedelta(minutes=rules.buffer_minutes)
    tz = rules.zone
    day, last_day = earliest.astimezone(tz).date(), latest.astimezone(tz).date()
    starts = []
    while day <= last_day:
        for start in _candidates(rules, day, duration):
            if earliest <= start < latest and not _overlaps(start, start + blocked, busy):
                starts.append(start)
        day += dt.timedelta(days=1)
    return starts


def is_free_start(
    rules: Rules,
    start: dt.datetime,
    *,
    duration_minutes: int,
    busy: Sequence[tuple[dt.datetime, dt.datetime]],
    now: dt.datetime,
) -> bool:
    window_end = start + dt.timedelta(minutes=1)
    return start in free_starts(
        rules,
        duration_minutes=duration_minutes,
        busy=busy,
        window_start=start,
        window_end=window_end,
        now=now,
    )
