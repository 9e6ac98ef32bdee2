"""SQL for availability rules and bookings."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy import delete, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.bookings.schemas import BookingFilter
from dreamer.db.repository import insert_and_get
from dreamer.models import (
    AvailabilityException,
    AvailabilitySettings,
    ServiceBooking,
)


async def settings(session: AsyncSession) -> AvailabilitySettings:
    row = await session.get(AvailabilitySettings, 1)
    assert row is not None, "migration 0005 inserts the settings row"
    return row


async def update_settings(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(
        update(AvailabilitySettings).where(AvailabilitySettings.id == 1).values(**values)
    )


async def exceptions(
    session: AsyncSession, first: dt.date | None = None, last: dt.date | None = None
) -> Sequence[AvailabilityException]:
    query = select(AvailabilityException).order_by(AvailabilityException.date)
    if first is not None:
        query = query.where(AvailabilityException.date >= first)
    if last is not None:
        query = query.where(AvailabilityException.date <= last)
    return (await session.scalars(query)).all()


async def lock_calendar(session: AsyncSession) -> None:
    """Queue this transaction behind any other one placing a booking, until it ends.

    The exclusion constraint alone keeps the calendar free of overlaps, but racing inserts
    of one slot each see the other's uncommitted row and wait on it: a deadlock, broken only
    after ``deadlock_timeout`` by aborting one of them, so a crowd of racers can all end in
    errors and nobody gets the slot. Behind this lock they go one at a time, each reading the
    calendar as the previous one left it: one booking, a clear 409 for the rest."""
    await session.execute(text("select pg_advisory_xact_lock(hashtextextended('bookings', 0))"))


async def busy(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, except_id: uuid.UUID | None = None
) -> list[tuple[dt.datetime, dt.datetime]]:
    rows = await session.execute(
        text("select starts, ends from booked_ranges(:f, :t, :x)"),
        {"f": start, "t": end, "x": except_id},
    )
    return [(r.starts, r.ends) for r in rows]


async def get(
    session: AsyncSession, booking_id: uuid.UUID, *, lock: bool = False
) -> ServiceBooking | None:
    query = select(ServiceBooking).where(ServiceBooking.id == booking_id)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).one_or_none()


async def by_idempotency_key(
    session: AsyncSession, user_id: uuid.UUID, key: str
) -> ServiceBooking | None:
    query = select(ServiceBooking).where(
        ServiceBooking.user_id == user_id, ServiceBooking.idempotency_key == key
    )
    return (await session.scalars(query)).one_or_none()


async def page(
    session: AsyncSession,
    filters: BookingFilter,
    *,
    user_id: uuid.UUID | None,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[ServiceBooking]:
    """By start time, soonest first; keyset pagination on (scheduled_at, id)."""
    query = select(ServiceBooking).order_by(ServiceBooking.scheduled_at, ServiceBooking.id)
    if user_id is not None:
        query = query.where(ServiceBooking.user_id == user_id)
    if filters.status is not None:
        query = query.where(ServiceBooking.status == filters.status)
    if filters.service_id is not None:
        query = query.where(ServiceBooking.service_id == filters.service_id)
    if filters.starts_from is not None:
        query = query.where(ServiceBooking.scheduled_at >= filters.starts_from)
    if filters.starts_before is not None:
        query = query.where(ServiceBooking.scheduled_at < filters.starts_before)
    if after is not None:
        query = query.where(tuple_(ServiceBooking.scheduled_at, ServiceBooking.id) > tuple_(*after))
    return (await session.scalars(query.limit(limit))).all()


# A client's own bookings on raw asyncpg (dreamer.db.reader): the columns of BookingOut, the
# same order and keyset as page(); RLS limits the rows to the caller's in any case.
_OWN_COLUMNS = (
    "id, user_id, service_id, consultation_type, scheduled_at,"
    " scheduled_at + make_interval(mins => duration_minutes) as ends_at, duration_minutes,"
    " time_zone, status, meeting_link, notes, cancellation_reason, cancelled_at, completed_at,"
    " reminder_sent, created_at, updated_at"
)


async def own_page(
    conn: asyncpg.Connection,
    filters: BookingFilter,
    *,
    user_id: uuid.UUID,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[Mapping[str, Any]]:
    """``page()`` for one user, as parameterised SQL (only fixed fragments are joined)."""
    args: list[object] = [user_id]
    where = ["user_id = $1"]

    def bind(value: object, cast: str = "") -> str:
        args.append(value)
        return f"${len(args)}{cast}"

    if filters.status is not None:
        where.append(f"status = {bind(filters.status.value, '::booking_status')}")
    if filters.service_id is not None:
        where.append(f"service_id = {bind(filters.service_id)}")
    if filters.starts_from is not None:
        where.append(f"scheduled_at >= {bind(filters.starts_from)}")
    if filters.starts_before is not None:
        where.append(f"scheduled_at < {bind(filters.starts_before)}")
    if after is not None:
        where.append(f"(scheduled_at, id) > ({bind(after[0])}, {bind(after[1])})")
    sql = (
        f"select {_OWN_COLUMNS} from service_bookings where {' and '.join(where)}"
        f" order by scheduled_at, id limit {bind(limit)}"
    )
    rows: list[Mapping[str, Any]] = await conn.fetch(sql, *args)
    return rows


async def add_exception(session: AsyncSession, values: dict[str, Any]) -> AvailabilityException:
    return await insert_and_get(session, AvailabilityException, values)


async def remove_exception(session: AsyncSession, exception_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(AvailabilityException)
        .where(AvailabilityException.id == exception_id)
        .returning(AvailabilityException.id)
    )
    return result.first() is not None
