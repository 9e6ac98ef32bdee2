"""`dreamer create-admin`, the production hashing parameters, and the worker's maintenance."""

from __future__ import annotations

import subprocess
from pathlib import Path

import asyncpg

from dreamer.auth.service import passwords_for
from dreamer.core.config import Settings
from dreamer.core.security import Passwords
from tests.harness import ClonedDatabase, run_cli


def _cli(db: ClonedDatabase, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(db, home, *args, timeout=120)


async def test_create_admin(
    fresh_db: ClonedDatabase, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    created = _cli(
        fresh_db,
        tmp_path,
        "create-admin",
        "--email",
        "ops@example.com",
        "--password",
        "operations passphrase",
        "--role",
        "super_admin",
    )
    assert created.returncode == 0, created.stderr
    row = await owner_conn.fetchrow(
        "select role, status, email_verified, password_hash from users "
        "where email = 'ops@example.com'"
    )
    assert row is not None
    assert (row["role"], row["status"], row["email_verified"]) == ("super_admin", "active", True)
    assert Passwords().verify(row["password_hash"], "operations passphrase")
    assert "operations passphrase" not in created.stdout + created.stderr
    weak = _cli(
        fresh_db, tmp_path, "create-admin", "--email", "x@example.com", "--password", "password"
    )
    assert weak.returncode == 1 and "common" in weak.stderr


def test_production_hashing_parameters() -> None:
    stored = passwords_for(Settings()).hash("some passphrase")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=2$")


async def test_worker_maintenance_purges_and_partitions(
    settings: Settings, owner_conn: asyncpg.Connection
) -> None:
    from dreamer.worker import build_worker

    assert settings.database_worker_url
    worker = build_worker(settings, settings.database_worker_url)
    user = await owner_conn.fetchval(
        "insert into users (email, first_name, last_name) values ('p@example.com', 'P', 'U') "
        "returning id"
    )
    await owner_conn.execute(
        "insert into user_sessions (user_id, session_token, expires_at) "
        "values ($1, 'old', now() - interval '40 days')",
        user,
    )
    task = worker.app.tasks["maintenance"]
    async with worker.app.open_async():
        await task.defer_async(timestamp=0)
    await worker.run(wait=False)
    await worker.close()
    assert await owner_conn.fetchval("select count(*) from user_sessions") == 0
    # the user made above marked its day for the reports; maintenance computed it
    assert await owner_conn.fetchval("select count(*) from report_stale") == 0
    assert await owner_conn.fetchval(
        "select new_users from report_daily where day = (now() at time zone 'UTC')::date"
    ) == await owner_conn.fetchval(
        "select count(*) from users where created_at >= date_trunc('day', now() at time zone 'UTC')"
        " at time zone 'UTC'"
    )
