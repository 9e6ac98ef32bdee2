"""The availability engine: time zones, daylight saving, buffers, notice, horizon, exceptions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dreamer.bookings.availability import Rules, free_starts, is_free_start, parse_hours

UTC = dt.UTC
NINE_TO_FIVE = {d: parse_hours([["09:00", "17:00"]]) for d in range(1, 6)}


def rules(**overrides: object) -> Rules:
    values: dict[str, object] = {
        "time_zone": "Europe/London",
        "weekly_hours": NINE_TO_FIVE,
        "min_notice_minutes": 0,
        "buffer_minutes": 15,
    }
    values.update(overrides)
    return Rules(**values)  # type: ignore[arg-type]


def at(y: int, m: int, d: int, h: int, minute: int = 0, tz: str = "UTC") -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def day(
    rule: Rules,
    date: dt.date,
    duration: int = 60,
    busy: list[tuple[dt.datetime, dt.datetime]] | None = None,
    now: dt.datetime | None = None,
) -> list[dt.datetime]:
    start = dt.datetime.combine(date, dt.time(0), tzinfo=UTC) - dt.timedelta(hours=14)
    end = start + dt.timedelta(hours=52)
    found = free_starts(
        rule,
        duration_minutes=duration,
        busy=busy or [],
        window_start=start,
        window_end=end,
        now=now or at(2027, 3, 20, 0),
    )
    zone = ZoneInfo(rule.time_zone)
    return [s for s in found if s.astimezone(zone).date() == date]


def test_business_hours_in_winter() -> None:
    starts = day(rules(), dt.date(2027, 3, 26))  # Friday, London on GMT
    assert starts[0] == at(2027, 3, 26, 9) and starts[-1] == at(2027, 3, 26, 16)
    assert len(starts) == 15  # 09:00 … 16:00 every 30 minutes


def test_across_the_daylight_saving_change() -> None:
    friday = day(rules(), dt.date(2027, 3, 26))
    monday = day(rules(), dt.date(2027, 3, 29))  # clocks went forward on Sunday the 28th
    assert friday[0] == at(2027, 3, 26, 9)  # 09:00 GMT = 09:00 UTC
    assert monday[0] == at(2027, 3, 29, 8)  # 09:00 BST = 08:00 UTC
    # an asker in New York (already on summer time since 14 March) sees 05:00 and 04:00
    ny = ZoneInfo("America/New_York")
    assert friday[0].astimezone(ny).hour == 5 and monday[0].astimezone(ny).hour == 4
    assert len(friday) == len(monday) == 15


def test_wall_times_in_the_spring_forward_gap_do_not_exist() -> None:
    night = rules(
        exceptions={dt.date(2027, 3, 28): parse_hours([["00:30", "03:00"]])}, buffer_minutes=0
    )
    starts = day(night, dt.date(2027, 3, 28), duration=30)
    local = [s.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M") for s in starts]
    assert local == ["00:30", "02:00", "02:30"]  # 01:00 and 01:30 never happen that night
    assert len(set(starts)) == len(starts)


def test_buffers_keep_meetings_apart() -> None:
    booked = at(2027, 3, 26, 11)
    busy = [(booked, booked + dt.timedelta(minutes=60 + 15))]
    starts = day(rules(), dt.date(2027, 3, 26), busy=busy)
    blocked = {at(2027, 3, 26, h, m) for h, m in [(10, 0), (10, 30), (11, 0), (11, 30), (12, 0)]}
    assert not blocked & set(starts)
    assert at(2027, 3, 26, 9, 30) in starts  # ends 10:30 + 15 min buffer = 10:45 < 11:00
    assert at(2027, 3, 26, 12, 30) in starts  # the booking's range ends at 12:15


def test_minimum_notice_and_horizon() -> None:
    now = at(2027, 3, 22, 10)  # Monday 10:00
    rule = rules(min_notice_minutes=24 * 60, horizon_days=3)
    found = free_starts(
        rule,
        duration_minutes=60,
        busy=[],
        window_start=now,
        window_end=now + dt.timedelta(days=10),
        now=now,
    )
    assert found[0] == at(2027, 3, 23, 10)  # 24 h later
    assert found[-1] < now + dt.timedelta(days=3)
    assert {s.date() for s in found} == {
        dt.date(2027, 3, 23),
        dt.date(2027, 3, 24),
        dt.date(2027, 3, 25),
    }


def test_exceptions_close_and_open_days() -> None:
    rule = rules(
        exceptions={
            dt.date(2027, 3, 26): [],  # a holiday on Friday
            dt.date(2027, 3, 27): parse_hours([["10:00", "12:00"]]),
        }
    )  # Saturday
    assert day(rule, dt.date(2027, 3, 26)) == []
    assert day(rule, dt.date(2027, 3, 27)) == [
        at(2027, 3, 27, 10),
        at(2027, 3, 27, 10, 30),
        at(2027, 3, 27, 11),
    ]


def test_is_free_start_requires_alignment() -> None:
    now = at(2027, 3, 20, 0)
    assert is_free_start(rules(), at(2027, 3, 26, 9), duration_minutes=60, busy=[], now=now)
    assert not is_free_start(rules(), at(2027, 3, 26, 9, 10), duration_minutes=60, busy=[], now=now)
    assert not is_free_start(rules(), at(2027, 3, 27, 9), duration_minutes=60, busy=[], now=now)
