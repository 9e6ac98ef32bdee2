"""Races: 32 clients want one slot through the real server; two workers send one reminder."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest

from dreamer.core.config import Settings
from dreamer.db.session import Database
from dreamer.worker import queue_reminders
from tests.factories import signed_in_headers
from tests.harness import MailSink

pytestmark = pytest.mark.usefixtures("bookable")


async def _clients(owner: asyncpg.Connection, secret: str, n: int) -> list[dict[str, str]]:
    """n signed-in clients, made directly in the database (fast, no rate limits)."""
    return [
        await signed_in_headers(owner, secret, f"racer{i}@example.com", "client") for i in range(n)
    ]


def _next_weekday_ten(days_ahead: int = 7) -> str:
    """10:00 London on a weekday about a week from now (real time: the server's clock)."""
    day = dt.date.today() + dt.timedelta(days=days_ahead)
    while day.isoweekday() > 5:
        day += dt.timedelta(days=1)
    return f"{day.isoformat()}T10:00:00"


async def test_32_concurrent_requests_for_one_slot_make_one_booking(
    server: str,
    settings: Settings,
    owner_conn: asyncpg.Connection,
    frozen_now: Callable[[dt.datetime | None], None],
) -> None:
    frozen_now(None)  # the server runs on the real clock
    racers = await _clients(owner_conn, settings.resolved_secret_key(), 32)
    body = {
        "serviceId": "ai-strategy-consultation",
        "scheduledAt": _next_weekday_ten(),
        "timeZone": "Europe/London",
        "consultationType": "discovery",
    }
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=server, limits=limits, timeout=30) as http:
        responses = await asyncio.gather(
            *(http.post("/api/v1/bookings", json=body, headers=h) for h in racers)
        )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 31, sorted(
        (r.status_code, r.json().get("detail", "")[:60]) for r in responses
    )
    taken = [r.json()["detail"] for r in responses if r.status_code == 409]
    assert all("is taken" in detail for detail in taken), taken  # none lost to a deadlock
    assert all(
        r.headers["content-type"] == "application/problem+json"
        for r in responses
        if r.status_code == 409
    )
    assert await owner_conn.fetchval("select count(*) from service_bookings") == 1


async def test_reminder_is_sent_once_with_two_workers(
    settings: Settings,
    owner_conn: asyncpg.Connection,
    mail: MailSink,
    deliver: Callable[[], Awaitable[None]],
) -> None:
    from tests.bookings.conftest import NOW

    user = await owner_conn.fetchval(
        "insert into users (email, first_name, last_name, role, status) "
        "values ('soon@example.com', 'S', 'O', 'client', 'active') returning id"
    )
    service = await owner_conn.fetchval("select id from services limit 1")
    booking = await owner_conn.fetchval(
        "insert into service_bookings (user_id, service_id, scheduled_at, duration_minutes, "
        "status, time_zone) values ($1, $2, $3, 60, 'confirmed', 'Europe/London') returning id",
        user,
        service,
        NOW + dt.timedelta(hours=12),
    )
    assert settings.database_owner_url
    workers = [Database(settings.database_owner_url, pool_size=2) for _ in range(4)]
    try:
        claimed = await asyncio.gather(*(queue_reminders(db) for db in workers))
        again = await queue_reminders(workers[0])
    finally:
        for db in workers:
            await db.dispose()
    assert sorted(claimed) == [0, 0, 0, 1] and again == 0
    row = await owner_conn.fetchrow(
        "select reminder_sent, reminder_sent_at from service_bookings where id = $1", booking
    )
    assert row is not None and row["reminder_sent"] and row["reminder_sent_at"] == NOW
    await deliver()
    reminders = [m for m in mail.to("soon@example.com") if "Reminder" in m["Subject"]]
    assert len(reminders) == 1


async def test_no_reminder_outside_the_window(
    settings: Settings, owner_conn: asyncpg.Connection
) -> None:
    from tests.bookings.conftest import NOW

    user = await owner_conn.fetchval(
        "insert into users (email, first_name, last_name, role, status) "
        "values ('later@example.com', 'L', 'A', 'client', 'active') returning id"
    )
    service = await owner_conn.fetchval("select id from services limit 1")
    for hours, status in ((48, "confirmed"), (12, "pending")):
        await owner_conn.execute(
            "insert into service_bookings (user_id, service_id, scheduled_at, duration_minutes, "
            "status) values ($1, $2, $3, 60, $4)",
            user,
            service,
            NOW + dt.timedelta(hours=hours),
            status,
        )
    assert settings.database_owner_url
    db = Database(settings.database_owner_url, pool_size=1)
    try:
        assert await queue_reminders(db) == 0
    finally:
        await db.dispose()
