"""Run Alembic programmatically (``dreamer migrate``, ``make run``, the test harness)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from dreamer.db.urls import async_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(owner_url: str, *, apply_definitions: bool = True) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    config.attributes["url"] = async_url(owner_url)
    config.attributes["apply_definitions"] = apply_definitions
    return config


def upgrade(owner_url: str, revision: str = "head", *, reapply: bool = False) -> None:
    """Migrate to ``revision``; at head apply ``db/sql/`` if it changed (or, with ``reapply``,
    in any case)."""
    config = alembic_config(owner_url)
    config.attributes["force_definitions"] = reapply
    command.upgrade(config, revision)


def downgrade(owner_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(owner_url), revision)


def check(owner_url: str) -> None:
    """Raise if the models and the migrated schema differ (``alembic check``)."""
    command.check(alembic_config(owner_url, apply_definitions=False))


async def definition_drift(owner_url: str) -> list[str]:
    """How the database's functions, triggers, policies and grants differ from ``db/sql/``."""
    import asyncpg

    from dreamer.db.definitions import definition_drift as drift
    from dreamer.db.urls import plain_url

    conn = await asyncpg.connect(plain_url(owner_url))
    try:
        return await drift(conn)
    finally:
        await conn.close()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def ensure_partitions(owner_url: str, months_ahead: int = 3) -> int:
    """Create next months' partitions of the monthly-partitioned tables; returns how many."""
    import asyncpg

    from dreamer.db.urls import plain_url

    conn = await asyncpg.connect(plain_url(owner_url))
    try:
        created = 0
        for table in ("audit_logs", "analytics_events"):
            created += await conn.fetchval(
                "select ensure_monthly_partitions($1::regclass, $2)", table, months_ahead
            )
        return created
    finally:
        await conn.close()
