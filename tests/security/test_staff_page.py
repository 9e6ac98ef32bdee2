"""``staff_lead_page()``: the staff's pipeline as the owner, for verified staff only.

It reads past the app role's policy on leads (so that the filters can be index conditions),
so it must refuse everyone else, and its filters must stay values: whatever a filter holds,
the statement it runs is the one its body builds.
"""

from __future__ import annotations

import json
import uuid

import asyncpg
import pytest
from sqlalchemy import text

from dreamer.db.context import RequestContext
from dreamer.db.session import Database
from tests.harness import ClonedDatabase

CLIENT = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
ADMIN = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
PAGE = text("select count(*) from staff_lead_page(cast(:p as jsonb))")
INJECTIONS = ["x')) OR true --", "'; delete from leads; --", "nobody' OR '1'='1"]


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


def _args(**filters: object) -> dict[str, str]:
    return {"p": json.dumps({"sort": "created_at", "limit": 50, **filters})}


async def test_only_staff_get_a_page_and_filters_stay_values(
    fresh_db: ClonedDatabase, owner_conn: asyncpg.Connection
) -> None:
    client_session = await _account(owner_conn, CLIENT, "client")
    admin_session = await _account(owner_conn, ADMIN, "admin")
    await owner_conn.execute(
        "insert into leads (email, first_name, company, user_id) values"
        " ('client-00c1@example.com', 'Own', 'Acme', $1), ('someone@example.org', 'Other',"
        " 'Zephyr', null)",
        CLIENT,
    )
    db = Database(fresh_db.app_url, pool_size=1)
    try:
        client = RequestContext(user_id=CLIENT, role="client", session_id=client_session)
        admin = RequestContext(user_id=ADMIN, role="admin", session_id=admin_session)
        for ctx in (RequestContext(), client):
            with pytest.raises(Exception, match="the pipeline is for staff"):
                async with db.transaction(ctx) as session:
                    await session.scalar(PAGE, _args())
        async with db.transaction(admin) as session:
            assert await session.scalar(PAGE, _args()) == 2
            assert await session.scalar(PAGE, _args(search="zephyr")) == 1
            for value in INJECTIONS:
                assert await session.scalar(PAGE, _args(tag=value, search=value)) == 0
        with pytest.raises(Exception, match="sorted by"):
            async with db.transaction(admin) as session:
                await session.scalar(PAGE, {"p": json.dumps({"sort": "email; drop table leads"})})
        assert await owner_conn.fetchval("select count(*) from leads") == 2
    finally:
        await db.dispose()
