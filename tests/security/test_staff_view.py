"""``staff_leads``: every lead for verified staff, nothing for anyone else, never writable.

The view runs as its owner (so the filters of the staff's pipeline can be index conditions) and
states its one rule itself, a one-time filter on ``app_is_staff()``. These tests hold it to
what the table's policy would allow: anonymous callers and clients (even one who has a lead of
their own) see no row, and a predicate that fails on any row it is shown raises nothing for
them, so no row reaches a caller's function before the rule is checked.
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy import text

from dreamer.db.context import RequestContext, StaleIdentity
from dreamer.db.session import Database
from tests.harness import ClonedDatabase

CLIENT = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
ADMIN = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
# fails on any row it is evaluated for: the row's address is not a number
LEAKING = "select count(*) from staff_leads where cast(email as integer) = 0"


async def _account(conn: asyncpg.Connection, user_id: uuid.UUID, role: str) -> uuid.UUID:
    await conn.execute(
        "insert into users (id, email, first_name, last_name, role, status)"
        " values ($1, $2, 'F', 'L', $3, 'active')",
        user_id,
        f"{role}-{user_id.hex[-4:]}@example.com",
        role,
    )
    session: uuid.UUID = await conn.fetchval(
        "insert into user_sessions (user_id, session_token, expires_at)"
        " values ($1, $2, now() + interval '1 day') returning id",
        user_id,
        user_id.hex,
    )
    return session


async def test_only_verified_staff_read_the_view(
    fresh_db: ClonedDatabase, owner_conn: asyncpg.Connection
) -> None:
    client_session = await _account(owner_conn, CLIENT, "client")
    admin_session = await _account(owner_conn, ADMIN, "admin")
    await owner_conn.execute(
        "insert into leads (email, first_name, user_id) values"
        " ('client-00c1@example.com', 'Own', $1), ('someone@example.org', 'Other', null)",
        CLIENT,
    )
    db = Database(fresh_db.app_url, pool_size=1)
    try:
        anonymous = RequestContext()
        client = RequestContext(user_id=CLIENT, role="client", session_id=client_session)
        # a client who claims staff rights their account does not have gets nothing either
        claimed = RequestContext(user_id=CLIENT, role="admin", session_id=client_session)
        admin = RequestContext(user_id=ADMIN, role="admin", session_id=admin_session)
        for ctx in (anonymous, client):
            async with db.transaction(ctx) as session:
                assert await session.scalar(text("select count(*) from staff_leads")) == 0
                assert await session.scalar(text(LEAKING)) == 0
        async with db.transaction(client) as session:  # the table's policy: their own lead
            assert await session.scalar(text("select count(*) from leads")) == 1
        with pytest.raises(StaleIdentity):
            async with db.transaction(claimed) as session:
                await session.scalar(text("select count(*) from staff_leads"))
        async with db.transaction(admin) as session:
            assert await session.scalar(text("select count(*) from staff_leads")) == 2
            with pytest.raises(Exception, match="invalid input syntax for type integer"):
                await session.scalar(text(LEAKING))
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "insert into staff_leads (email) values ('forged@example.com')",
        "update staff_leads set status = 'lost'",
        "delete from staff_leads",
    ],
)
async def test_the_view_is_read_only_for_the_app(
    app_conn: asyncpg.Connection, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.execute(statement)


async def test_the_view_has_the_columns_of_leads(owner_conn: asyncpg.Connection) -> None:
    """A column added to leads must reach the view too (the ORM reads every column)."""
    query = (
        "select attname, atttypid::regtype::text from pg_attribute"
        " where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum"
    )
    table = await owner_conn.fetch(query, "leads")
    view = await owner_conn.fetch(query, "staff_leads")
    assert [tuple(r) for r in view] == [tuple(r) for r in table]
