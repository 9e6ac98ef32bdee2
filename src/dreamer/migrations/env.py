"""Alembic environment: runs as the schema owner over asyncpg.

All pending migrations and then the repeatable step that applies ``db/sql/`` (when the upgrade
ends at head and the files changed) run in one transaction: an upgrade lands whole or not at all.

The URL comes from ``config.attributes["url"]`` (set by ``dreamer.db.migrate``) so no
credentials live in an ini file. Partitions of the monthly tables are created at run time and
are not part of the models, so autogenerate/``alembic check`` skips them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from dreamer.migrations.sql import sync_definitions
from dreamer.models import metadata

_PARTITION = re.compile(r"^(audit_logs|analytics_events)_(default|\d{4}_\d{2})$")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    if type_ == "table" and name is not None and _PARTITION.match(name):
        return False
    if type_ == "table" and name in ("schema_definitions", "app_secrets"):
        return False  # bookkeeping of the repeatable step and the identity key, not models
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def _configure(connection: Connection) -> None:
    downgraded: list[bool] = []

    def on_version_apply(
        ctx: MigrationContext,
        step: MigrationInfo,
        heads: Collection[Any],
        run_args: Mapping[str, Any],
    ) -> None:
        downgraded.append(not step.is_upgrade)

    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        compare_type=True,
        on_version_apply=on_version_apply,
    )
    with context.begin_transaction():
        context.run_migrations()
        if context.config.attributes.get("apply_definitions") and _at_head():
            force = bool(context.config.attributes.get("force_definitions"))
            sync_definitions(connection, downgraded=any(downgraded), force=force)
        elif any(downgraded):
            sync_definitions(connection, downgraded=True)


def _at_head() -> bool:
    heads = set(context.get_context().get_current_heads())
    return heads == set(context.script.get_heads())


async def _run() -> None:
    url = context.config.attributes["url"]
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
    else:
        asyncio.run(_run())


main()
