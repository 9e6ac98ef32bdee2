"""The reports' business roll-ups (report_daily*, migration 0023) against the tables they sum.

After every kind of write the triggers must mark the right days and ``report_refresh()`` must
then give exactly what a count over the tables gives: a lead's person booking for the first
time (by account or by address), a change of address, a booking completed, moved or removed,
a lead's source or day changing, an account removed, a table emptied. A write still open
while a refresh runs is counted by the next one."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from tests.harness import ClonedDatabase

TRUTH_DAILY = """
    with u as (select (created_at at time zone 'UTC')::date d, count(*) n from users group by 1),
         b as (select (created_at at time zone 'UTC')::date d, count(*) n
               from service_bookings group by 1),
         f as (select (a.created_at at time zone 'UTC')::date d, count(*) n
               from lead_activities a join leads l on l.id = a.lead_id
               where a.activity_type = 'inquiry' and l.source = 'website' group by 1)
    select d, coalesce(u.n, 0) as new_users, coalesce(b.n, 0) as bookings,
           coalesce(f.n, 0) as forms
    from u full join b using (d) full join f using (d)
"""
TRUTH_LEADS = """
    select (l.created_at at time zone 'UTC')::date d, l.source::text, count(*) as leads,
           count(*) filter (where exists (
               select 1 from service_bookings b where b.user_id = coalesce(l.user_id,
                   (select u.id from users u where lower(u.email) = l.email_normalized))))
               as booked,
           count(*) filter (where l.status = 'converted') as converted
    from leads l group by 1, 2
"""
TRUTH_REVENUE = """
    select (scheduled_at at time zone 'UTC')::date d, service_id, count(*) as completed,
           sum(duration_minutes) as minutes
    from service_bookings where status = 'completed' group by 1, 2
"""


async def _table(conn: asyncpg.Connection, query: str) -> set[tuple[Any, ...]]:
    return {tuple(r) for r in await conn.fetch(query)}


async def _check(conn: asyncpg.Connection) -> None:
    await conn.fetchval("select report_refresh()")
    assert await conn.fetchval("select count(*) from report_stale") == 0
    assert await _table(
        conn, "select day, new_users, bookings, forms from report_daily"
    ) == await _table(conn, TRUTH_DAILY)
    assert await _table(
        conn, "select day, source::text, leads, booked, converted from report_daily_leads"
    ) == await _table(conn, TRUTH_LEADS)
    assert await _table(
        conn, "select day, service_id, completed, minutes from report_daily_revenue"
    ) == await _table(conn, TRUTH_REVENUE)


async def _user(conn: asyncpg.Connection, email: str, days_ago: int = 0) -> uuid.UUID:
    made: uuid.UUID = await conn.fetchval(
        "insert into users (email, first_name, last_name, role, status, created_at)"
        " values ($1, 'P', 'Q', 'client', 'active', now() - make_interval(days => $2))"
        " returning id",
        email,
        days_ago,
    )
    return made


async def _lead(
    conn: asyncpg.Connection,
    email: str,
    source: str = "website",
    days_ago: int = 0,
    user_id: uuid.UUID | None = None,
) -> uuid.UUID:
    lead: uuid.UUID = await conn.fetchval(
        "insert into leads (email, source, user_id, created_at)"
        " values ($1, $2::lead_source, $3, now() - make_interval(days => $4)) returning id",
        email,
        source,
        user_id,
        days_ago,
    )
    await conn.execute(
        "insert into lead_activities (lead_id, activity_type, created_at)"
        " values ($1, 'inquiry', now() - make_interval(days => $2))",
        lead,
        days_ago,
    )
    return lead


async def _booking(
    conn: asyncpg.Connection, user_id: uuid.UUID, service_id: uuid.UUID, hours_ahead: int
) -> uuid.UUID:
    made: uuid.UUID = await conn.fetchval(
        "insert into service_bookings (user_id, service_id, scheduled_at, duration_minutes)"
        " values ($1, $2, date_trunc('hour', now()) + make_interval(hours => $3), 90)"
        " returning id",
        user_id,
        service_id,
        hours_ahead,
    )
    return made


@pytest.fixture
async def service(owner_conn: asyncpg.Connection) -> uuid.UUID:
    made: uuid.UUID = await owner_conn.fetchval(
        "insert into services (name, slug, pricing) values ('Hourly', 'hourly',"
        ' \'{"type": "hourly", "rate": 200, "currency": "EUR"}\') returning id'
    )
    return made


async def test_every_kind_of_write_leaves_the_rollups_equal_to_the_tables(
    owner_conn: asyncpg.Connection, service: uuid.UUID
) -> None:
    conn = owner_conn
    await _check(conn)  # what the template's seed holds
    ann = await _user(conn, "ann@example.com", days_ago=3)
    by_address = await _lead(conn, "Ann@Example.com", days_ago=2)
    by_account = await _lead(conn, "other@example.com", "referral", days_ago=5, user_id=ann)
    await _lead(conn, "new@example.com", "event", days_ago=1)
    await _check(conn)

    # Ann books: both her leads (by address and by account) count as booked, days ago
    booking = await _booking(conn, ann, service, 30)
    await _check(conn)
    assert await conn.fetchval("select sum(booked) from report_daily_leads") == 2

    # the meeting happens; its day earns the hourly rate for 90 minutes
    await conn.execute("update service_bookings set status = 'confirmed' where id = $1", booking)
    await conn.execute(
        "update service_bookings set status = 'completed', scheduled_at = now() - interval '2 days'"
        " where id = $1",
        booking,
    )
    await _check(conn)
    assert await conn.fetchval("select sum(minutes) from report_daily_revenue") == 90

    # a new address: the lead that matched the old one is no longer hers, new@ now is
    await conn.execute("update users set email = 'new@example.com' where id = $1", ann)
    await _check(conn)
    # a login touches the account but no figure: nothing is marked
    await conn.execute("update users set last_login = now() where id = $1", ann)
    assert await conn.fetchval("select count(*) from report_stale") == 0

    # a lead's source, status and day change; a contact form moves to another day
    await conn.execute(
        "update leads set source = 'referral', status = 'converted', conversion_date = now(),"
        " created_at = created_at - interval '10 days' where id = $1",
        by_address,
    )
    await conn.execute(
        "update lead_activities set created_at = created_at - interval '3 days' where lead_id = $1",
        by_account,
    )
    await conn.execute("update leads set source = 'website' where id = $1", by_account)
    await _check(conn)

    # the booking goes; then the account itself (its leads lose their person)
    await conn.execute("delete from service_bookings where id = $1", booking)
    await _check(conn)
    kept = await _booking(conn, ann, service, 50)  # a completed meeting outlives its account
    await conn.execute("update service_bookings set status = 'confirmed' where id = $1", kept)
    await conn.execute("update service_bookings set status = 'completed' where id = $1", kept)
    await _check(conn)
    await conn.execute("delete from users where id = $1", ann)
    await _check(conn)

    await conn.execute("delete from leads where id = $1", by_account)
    await conn.execute("truncate lead_activities")
    await _check(conn)
    await conn.execute("truncate service_bookings")
    await _check(conn)


async def test_a_write_still_open_during_a_refresh_is_counted_by_the_next(
    owner_conn: asyncpg.Connection, fresh_db: ClonedDatabase
) -> None:
    await _check(owner_conn)
    writer = await asyncpg.connect(fresh_db.owner_url)
    try:
        open_write = writer.transaction()
        await open_write.start()
        await _lead(writer, "late@example.com")
        await _check(owner_conn)  # the lead is not committed: not counted, not lost
        await open_write.commit()
        assert await owner_conn.fetchval("select count(*) from report_stale") > 0
        await _check(owner_conn)
    finally:
        await writer.close()


async def test_only_staff_refresh_and_no_one_else_reads_the_stale_days(
    app_conn: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    await _lead(owner_conn, "someone@example.com")
    await _check(owner_conn)
    assert await owner_conn.fetchval("select count(*) from report_daily_leads") > 0
    async with app_conn.transaction():
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_conn.fetchval("select report_refresh()")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.fetch("select * from report_stale")
    # without staff rights the roll-ups read as empty (RLS), even though rows exist
    assert await app_conn.fetchval("select count(*) from report_daily_leads") == 0
