"""Run SQL scripts inside the current migration's transaction; apply ``db/sql/`` at head.

SQLAlchemy's asyncpg dialect prepares every statement, and a prepared statement holds one
command. A script (functions with dollar-quoted bodies, several CREATEs) goes to asyncpg's
simple-query ``execute`` on the same connection, after a trivial statement that makes sure the
dialect has opened its transaction, so the script commits or rolls back with the migration.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.util import await_only

from dreamer.db import definitions


def run_script(sql: str) -> None:
    run_script_on(op.get_bind(), sql)


def run_script_on(bind: Connection, sql: str) -> None:
    bind.execute(text("select 1"))
    driver = bind.connection.dbapi_connection.driver_connection  # type: ignore[union-attr]
    await_only(driver.execute(sql))


def sync_definitions(bind: Connection, *, downgraded: bool, force: bool = False) -> bool:
    """The repeatable step (see ``dreamer.db.definitions``); returns whether it applied the files.

    Runs in the migration transaction, after the last migration. A downgrade forgets the recorded
    checksum instead, so the next upgrade to head applies the files again.
    """
    exists = bind.execute(text("select to_regclass('public.schema_definitions')")).scalar()
    if exists is None:
        return False
    if downgraded:
        bind.execute(text("delete from schema_definitions"))
        return False
    files = definitions.sql_files()
    checksum = definitions.combined_checksum(files)
    recorded = bind.execute(
        text("select checksum from schema_definitions where name = :name"),
        {"name": definitions.ALL_FILES},
    ).scalar()
    if recorded == checksum and not force:
        return False
    for script in definitions.statements(files):
        run_script_on(bind, script)
    record = text(
        "insert into schema_definitions (name, checksum, applied_at) values (:name, :sum, now())"
        " on conflict (name) do update set checksum = excluded.checksum,"
        " applied_at = excluded.applied_at"
    )
    rows = [{"name": f.name, "sum": f.checksum} for f in files]
    bind.execute(record, [*rows, {"name": definitions.ALL_FILES, "sum": checksum}])
    return True
