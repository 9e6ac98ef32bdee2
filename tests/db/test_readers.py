"""The anonymous read paths (Database.read without a caller, and the raw PublicReader): they
skip the context statement, so they must see exactly what an anonymous caller may see, and
PostgreSQL must refuse any write on them."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dreamer.db.session import Database, RequestContext
from tests.harness import ClonedDatabase


@pytest.fixture
async def database(fresh_db: ClonedDatabase, owner_conn: asyncpg.Connection) -> Database:
    await owner_conn.execute(
        "insert into services (name, slug, is_active) values"
        " ('Open', 'open', true), ('Hidden', 'hidden', false)"
    )
    return Database(fresh_db.app_url)


async def test_the_orm_reader_sees_what_anonymous_may_and_writes_nothing(
    database: Database,
) -> None:
    try:
        async with database.read(RequestContext()) as session:
            slugs = set((await session.scalars(text("select slug from services"))).all())
            assert slugs == {"open"}  # RLS: an unset context is the anonymous caller
            assert await session.scalar(text("select app_user_id()")) is None
        with pytest.raises(DBAPIError, match="read-only transaction"):
            async with database.read(RequestContext()) as session:
                await session.execute(text("update services set name = 'x'"))
    finally:
        await database.dispose()


async def test_the_public_reader_sees_what_anonymous_may_and_writes_nothing(
    database: Database, owner_conn: asyncpg.Connection
) -> None:
    try:
        rows = await database.public.fetch("select slug, pricing from services")
        assert [r["slug"] for r in rows] == ["open"]
        assert isinstance(rows[0]["pricing"], dict)  # JSON arrives decoded
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await database.public.fetch("update services set name = 'x' returning id")
        # Connections are not reset between uses, so say something did leave session-level
        # settings behind: forged ones still grant nothing (app_role() checks the identity's
        # MAC, whose key the app role cannot read).
        for _ in range(4):
            await database.public.fetch(
                "select set_config('app.role', 'super_admin', false),"
                " set_config('app.user_id', $1, false)",
                str(uuid.uuid4()),
            )
        rows = await database.public.fetch("select slug from services")
        assert [r["slug"] for r in rows] == ["open"]
        staff = await database.public.fetchrow("select app_is_staff() as staff")
        assert staff is not None and staff["staff"] is False
        assert await owner_conn.fetchval("select name from services where slug = 'open'") == "Open"
    finally:
        await database.dispose()
