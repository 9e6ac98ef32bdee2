"""Test harness: one throwaway PostgreSQL per session, a migrated template, a clone per test.

With ``TEST_DATABASE_URL`` (a superuser URL of a disposable server) that server is used;
otherwise an embedded cluster starts on tmpfs with fsync off. The template is migrated once;
``fresh_db`` clones it per test (``STRATEGY FILE_COPY``, ~50 ms on tmpfs) so tests that commit
across connections stay isolated. Everything the tests do through the API or ``app_conn`` runs
as ``dreamer_app``, so Row Level Security applies exactly as in production.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from dreamer.core.config import Settings
from dreamer.db import migrate
from dreamer.db.bootstrap import ensure_database, ensure_roles
from dreamer.db.embedded import APP_ROLE, OWNER_ROLE, SUPERUSER, EmbeddedPostgres

TEMPLATE = "dreamer_template"
_counter = itertools.count()


@dataclass(frozen=True)
class Cluster:
    superuser_url: str
    owner_password: str
    app_password: str

    def url(self, role: str, database: str) -> str:
        parts = urlsplit(self.superuser_url)
        password = {OWNER_ROLE: self.owner_password, APP_ROLE: self.app_password}[role]
        host = parts.hostname or ""
        netloc = f"{role}:{quote(password, safe='')}@{host}"
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, ""))


@dataclass(frozen=True)
class ClonedDatabase:
    name: str
    app_url: str
    owner_url: str


def _superuser_url_for(server: EmbeddedPostgres) -> str:
    return server.url(SUPERUSER, "postgres")


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    external = os.environ.get("TEST_DATABASE_URL")
    server: EmbeddedPostgres | None = None
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if external:
        superuser_url = external
    else:
        base = "/dev/shm" if Path("/dev/shm").is_dir() else None
        tmp = tempfile.TemporaryDirectory(prefix="dreamer-test-", dir=base)
        bindir = os.environ.get("PG_BINDIR")
        server = EmbeddedPostgres(Path(tmp.name), Path(bindir) if bindir else None, fast=True)
        server.start()
        superuser_url = _superuser_url_for(server)
    result = Cluster(superuser_url, secrets.token_urlsafe(16), secrets.token_urlsafe(16))
    asyncio.run(_prepare_template(result))
    yield result
    if server is not None:
        server.stop()
    if tmp is not None:
        tmp.cleanup()


async def _prepare_template(c: Cluster) -> None:
    conn = await asyncpg.connect(c.superuser_url)
    try:
        await ensure_roles(conn, owner_password=c.owner_password, app_password=c.app_password)
        await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        await ensure_database(conn, TEMPLATE)
    finally:
        await conn.close()
    owner_url = c.url(OWNER_ROLE, TEMPLATE)
    await asyncio.to_thread(migrate.upgrade, owner_url)
    await migrate.ensure_partitions(owner_url)


async def clone_database(c: Cluster) -> ClonedDatabase:
    name = f"t_{os.getpid()}_{next(_counter)}"
    conn = await asyncpg.connect(c.superuser_url)
    try:
        await conn.execute(
            f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} OWNER {OWNER_ROLE} STRATEGY FILE_COPY"
        )
        await conn.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {name} TO {APP_ROLE}")
    finally:
        await conn.close()
    return ClonedDatabase(name, c.url(APP_ROLE, name), c.url(OWNER_ROLE, name))


async def drop_database(c: Cluster, name: str) -> None:
    conn = await asyncpg.connect(c.superuser_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture
async def fresh_db(cluster: Cluster) -> AsyncIterator[ClonedDatabase]:
    db = await clone_database(cluster)
    yield db
    await drop_database(cluster, db.name)


@pytest.fixture
async def owner_conn(fresh_db: ClonedDatabase) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(fresh_db.owner_url)
    yield conn
    await conn.close()


@pytest.fixture
async def app_conn(fresh_db: ClonedDatabase) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(fresh_db.app_url)
    yield conn
    await conn.close()


def make_settings(db: ClonedDatabase, home: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "dreamer_env": "test",
        "dreamer_home": home,
        "database_url": db.app_url,
        "database_owner_url": db.owner_url,
        "secret_key": "test-secret-" + "x" * 40,
        "db_pool_size": 4,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(fresh_db: ClonedDatabase, tmp_path: Path) -> Settings:
    return make_settings(fresh_db, tmp_path)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from dreamer.app import create_app

    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await app.state.db.dispose()


async def act_as(
    conn: asyncpg.Connection,
    *,
    user_id: uuid.UUID | None = None,
    role: str = "anonymous",
    visitor_id: str | None = None,
) -> None:
    """Set the request context inside the current transaction, as the API does."""
    await conn.execute(
        "select set_config('app.user_id', $1, true), set_config('app.role', $2, true),"
        " set_config('app.visitor_id', $3, true)",
        str(user_id) if user_id else "",
        role,
        visitor_id or "",
    )
