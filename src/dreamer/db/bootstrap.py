"""Create the roles and the database on a server we administer (embedded or test cluster).

``dreamer_owner`` owns the database and every object in it and runs migrations.
``dreamer_app`` is what the API logs in as: no superuser, no BYPASSRLS, owns nothing, and a
statement timeout so a runaway query cannot hold a connection forever. ``dreamer_auth`` is the
credential path's role (logins, tokens, account mail): it has what ``dreamer_app`` has, plus the
only right to execute the functions that read or write password hashes and mint sessions, and
the API uses it through a small pool of its own. ``dreamer_worker`` is the background worker's:
it may read what mails need and write only the token digests, the outbox's delivery state and
its job queue (``db/sql/worker.sql``). On a server we do not administer
(``DATABASE_URL`` given), an operator runs the equivalent SQL once; the README shows it.
"""

from __future__ import annotations

import asyncpg

from dreamer.db.embedded import APP_ROLE, AUTH_ROLE, OWNER_ROLE, WORKER_ROLE


async def _set_password(conn: asyncpg.Connection, role: str, password: str) -> None:
    # Utility statements take no bind parameters: quote server-side with format(%I, %L).
    statement = await conn.fetchval(
        "select format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)", role, password
    )
    await conn.execute(statement)


async def ensure_roles(
    conn: asyncpg.Connection,
    *,
    owner_password: str | None,
    app_password: str | None,
    auth_password: str | None = None,
    worker_password: str | None = None,
    statement_timeout_ms: int = 15_000,
) -> None:
    """Create or correct the roles (idempotent); ``conn`` must be a superuser's."""
    for role in (OWNER_ROLE, APP_ROLE, AUTH_ROLE, WORKER_ROLE):
        exists = await conn.fetchval("select 1 from pg_roles where rolname = $1", role)
        if not exists:
            await conn.execute(
                await conn.fetchval("select format('CREATE ROLE %I', $1::text)", role)
            )
    await conn.execute(
        f"ALTER ROLE {OWNER_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
    )
    await conn.execute(
        f"ALTER ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT"
    )
    # INHERIT: the auth role acts with the app role's grants and falls under its policies.
    await conn.execute(
        f"ALTER ROLE {AUTH_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS INHERIT"
    )
    await conn.execute(f"GRANT {APP_ROLE} TO {AUTH_ROLE}")
    await conn.execute(
        f"ALTER ROLE {WORKER_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT"
    )
    for role in (APP_ROLE, AUTH_ROLE):
        timeout = await conn.fetchval(
            "select format('ALTER ROLE %I SET statement_timeout = %L', $1::text, $2::text)",
            role,
            f"{int(statement_timeout_ms)}ms",
        )
        await conn.execute(timeout)
        await conn.execute(f"ALTER ROLE {role} SET idle_in_transaction_session_timeout = '60s'")
    for role, password in (
        (OWNER_ROLE, owner_password),
        (APP_ROLE, app_password),
        (AUTH_ROLE, auth_password),
        (WORKER_ROLE, worker_password),
    ):
        if password is not None:
            await _set_password(conn, role, password)


async def ensure_database(
    conn: asyncpg.Connection, database: str, *, template: str = "template0"
) -> bool:
    """Create ``database`` owned by the owner role; returns True when it was created."""
    exists = await conn.fetchval("select 1 from pg_database where datname = $1", database)
    if exists:
        return False
    await conn.execute(
        await conn.fetchval(
            "select format('CREATE DATABASE %I OWNER %I TEMPLATE %I ENCODING ''UTF8''',"
            " $1::text, $2::text, $3::text)",
            database,
            OWNER_ROLE,
            template,
        )
    )
    await conn.execute(
        await conn.fetchval(
            "select format('REVOKE ALL ON DATABASE %I FROM PUBLIC;"
            " GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', $1::text, $1::text, $2::text)",
            database,
            APP_ROLE,
        )
    )
    await grant_connect(conn, database)
    return True


async def grant_connect(conn: asyncpg.Connection, database: str) -> None:
    """The credential and worker roles may connect (no TEMPORARY: they never need it)."""
    for role in (AUTH_ROLE, WORKER_ROLE):
        grant = await conn.fetchval(
            "select format('GRANT CONNECT ON DATABASE %I TO %I', $1::text, $2::text)",
            database,
            role,
        )
        await conn.execute(grant)


async def provision(
    superuser_dsn: str,
    database: str,
    *,
    owner_password: str | None,
    app_password: str | None,
    auth_password: str | None = None,
    worker_password: str | None = None,
    statement_timeout_ms: int = 15_000,
) -> bool:
    """Roles plus database in one call; returns True when the database is new."""
    conn = await asyncpg.connect(superuser_dsn)
    try:
        await ensure_roles(
            conn,
            owner_password=owner_password,
            app_password=app_password,
            auth_password=auth_password,
            worker_password=worker_password,
            statement_timeout_ms=statement_timeout_ms,
        )
        created = await ensure_database(conn, database)
        await grant_connect(conn, database)  # databases made before these roles existed
        return created
    finally:
        await conn.close()
