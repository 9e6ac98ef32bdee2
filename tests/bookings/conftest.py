"""A bookable world: seeded services, London business hours, a clock frozen on a Monday."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import asyncpg
import httpx
import pytest

from dreamer.core import clock
from dreamer.core.config import Settings
from dreamer.seed.runner import run_seed

NOW = dt.datetime(2027, 3, 22, 8, 0, tzinfo=dt.UTC)  # Monday 08:00 in London (GMT)
SLOT = "2027-03-24T10:00:00+00:00"  # Wednesday 10:00 London


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[Callable[[dt.datetime | None], None]]:
    clock.freeze(NOW)
    yield clock.freeze
    clock.freeze(None)


@pytest.fixture
async def bookable(settings: Settings, owner_conn: asyncpg.Connection) -> None:
    assert settings.database_owner_url
    await run_seed(settings, settings.database_owner_url, demo=False, only_if_empty=False)
    await owner_conn.execute("update availability_settings set time_zone = 'Europe/London'")


async def book(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    when: str = SLOT,
    service: str = "ai-strategy-consultation",
    **extra: object,
) -> httpx.Response:
    return await client.post(
        "/api/v1/bookings",
        headers=auth,
        json={
            "serviceId": service,
            "consultationType": "strategy",
            "scheduledAt": when,
            "timeZone": "Europe/Paris",
            "notes": "Looking forward",
            **extra,
        },
    )
