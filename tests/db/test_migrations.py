"""Migrations: empty → head → empty → head, and no drift between models and schema."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import asyncpg
import pytest

from dreamer.db import migrate
from dreamer.db.bootstrap import ensure_database
from dreamer.db.embedded import OWNER_ROLE
from tests.harness import Cluster, drop_database

EMPTY_DB = "dreamer_migration_roundtrip"


@pytest.fixture
async def empty_db(cluster: Cluster) -> AsyncIterator[str]:
    conn = await asyncpg.connect(cluster.superuser_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {EMPTY_DB} WITH (FORCE)")
        await ensure_database(conn, EMPTY_DB)
    finally:
        await conn.close()
    yield cluster.url(OWNER_ROLE, EMPTY_DB)
    await drop_database(cluster, EMPTY_DB)


async def _objects(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            """
            select
              (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = 'public' and c.relname <> 'alembic_version'
                 and c.relname not like 'alembic_version%') as relations,
              (select count(*) from pg_type t join pg_namespace n on n.oid = t.typnamespace
               where n.nspname = 'public' and t.typtype = 'e') as enums,
              (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
               where n.nspname = 'public') as functions
            """
        )
        assert row is not None
        return dict(row)
    finally:
        await conn.close()


async def test_upgrade_downgrade_roundtrip_and_no_drift(empty_db: str) -> None:
    await asyncio.to_thread(migrate.upgrade, empty_db)
    after_upgrade = await _objects(empty_db)
    assert after_upgrade["relations"] > 50 and after_upgrade["enums"] >= 8
    await asyncio.to_thread(migrate.check, empty_db)  # raises on drift

    await asyncio.to_thread(migrate.downgrade, empty_db)
    assert await _objects(empty_db) == {"relations": 0, "enums": 0, "functions": 0}

    await asyncio.to_thread(migrate.upgrade, empty_db)
    assert await _objects(empty_db) == after_upgrade


def test_migration_files_are_dated_and_linear() -> None:
    from alembic.script import ScriptDirectory

    from dreamer.db.migrate import MIGRATIONS_DIR, alembic_config

    scripts = ScriptDirectory.from_config(alembic_config("postgresql://x@/y"))
    assert len(scripts.get_heads()) == 1
    pattern = re.compile(r"^\d{4}-\d{2}-\d{2}-\d{4}_[a-z0-9_]+\.py$")
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        assert pattern.match(path.name) or path.name == "__init__.py", path.name
