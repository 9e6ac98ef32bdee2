"""Dates the API accepts: 1970 to 2100. Beyond that a calendar computation can overflow
(``9999-12-31`` plus a day), and nothing this business books or filters lies there."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator

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
