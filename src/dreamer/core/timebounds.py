"""Dates the API accepts: 1970 to 2100. Beyond that a calendar computation can overflow
(``9999-12-31`` plus a day), and nothing this business books or filters lies there."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator

from dreamer.core.errors import ValidationFailed

EARLIEST = dt.datetime(1970, 1, 1)
LATEST = dt.datetime(2100, 1, 1)


def _within(value: dt.datetime) -> dt.datetime:
    # Compare the wall-clock part (never convert first: 0001-01-01T00:00+14:00 in UTC is
    # before year 1 and overflows); an offset moves the instant by at most a day.
    if not EARLIEST <= value.replace(tzinfo=None) < LATEST:
        raise ValueError("must be between 1970-01-01 and 2100-01-01")
    return value


def _day_within(value: dt.date) -> dt.date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError("must be between 1970-01-01 and 2100-01-01")
    return value


Moment = Annotated[dt.datetime, AfterValidator(_within)]
Day = Annotated[dt.date, AfterValidator(_day_within)]


MAX_REPORT_DAYS = 366


def report_days(
    day_from: dt.date | None, day_to: dt.date | None, *, default_days: int = 30
) -> tuple[dt.date, dt.date]:
    """A staff report's ``from`` and ``to`` (UTC days, both included): by default the last
    ``default_days`` days to today; at most ``MAX_REPORT_DAYS`` (else a 422)."""
    to = day_to or dt.datetime.now(dt.UTC).date()
    start = day_from or to - dt.timedelta(days=default_days - 1)
    if start > to:
        raise ValidationFailed("from must not be after to")
    if (to - start).days >= MAX_REPORT_DAYS:
        raise ValidationFailed(f"a report covers at most {MAX_REPORT_DAYS} days")
    return start, to


def midnight(day: dt.date) -> dt.datetime:
    """The UTC instant ``day`` begins."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
