"""Run multi-statement SQL scripts inside the current migration's transaction.

SQLAlchemy's asyncpg dialect prepares every statement, and a prepared statement holds one
command. A script (functions with dollar-quoted bodies, several CREATEs) goes to asyncpg's
simple-query ``execute`` on the same connection, after a trivial statement that makes sure the
dialect has opened its transaction, so the script commits or rolls back with the migration.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text
from sqlalchemy.util import await_only


def run_script(sql: str) -> None:
    bind = op.get_bind()
    bind.execute(text("select 1"))
    driver = bind.connection.dbapi_connection.driver_connection  # type: ignore[union-attr]
    await_only(driver.execute(sql))
