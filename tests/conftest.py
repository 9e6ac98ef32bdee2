"""Test harness: one throwaway PostgreSQL per session, a migrated template, a clone per test.

With ``TEST_DATABASE_URL`` (a superuser URL of a disposable server) that server is used;
otherwise an embedded cluster starts on tmpfs with fsync off. The template is migrated once;
``fresh_db`` clones it per test (``STRATEGY FILE_COPY``, ~50 ms on tmpfs) so tests that commit
across connections stay isolated. Everything the tests do through the API or ``app_conn`` runs
as ``dreamer_app``, so Row Level Security applies exactly as in production.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.message
import email.policy
import itertools
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
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
        # cheap hashing in tests; tests/auth/test_passwords.py checks the production parameters
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "argon2_parallelism": 1,
        "frontend_url": "https://dreamer.test",
        "trusted_proxies": ["203.0.113.7/32"],
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


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


# -- mail and the worker ------------------------------------------------------------------------


class MailSink:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []  # as received on the wire

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        self.messages.append(parsed)
        self.raw.append(bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def link(self, address: str, path: str) -> str:
        """The token of the newest mail to ``address`` linking to ``path``."""
        for message in reversed(self.to(address)):
            body = message.get_body(("plain",))
            assert body is not None
            match = re.search(
                rf"https://dreamer\.test{path}\?token=([A-Za-z0-9_-]+)", body.get_content()
            )
            if match:
                return match.group(1)
        raise AssertionError(f"no mail to {address} with a {path} link")


@pytest.fixture
def smtp() -> Iterator[tuple[MailSink, int]]:
    from aiosmtpd.controller import Controller

    sink = MailSink()
    with socket.socket() as probe:  # aiosmtpd cannot bind port 0 itself
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def mail(smtp: tuple[MailSink, int]) -> MailSink:
    return smtp[0]


@pytest.fixture
def settings(fresh_db: ClonedDatabase, tmp_path: Path, smtp: tuple[MailSink, int]) -> Settings:
    return make_settings(fresh_db, tmp_path, smtp_url=f"smtp://127.0.0.1:{smtp[1]}")


@pytest.fixture
async def deliver(settings: Settings) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Run the real worker until its queues are empty (delivers queued mail)."""
    from dreamer.worker import build_worker

    assert settings.database_owner_url
    worker = build_worker(settings, settings.database_owner_url)

    async def run() -> None:
        await worker.run(wait=False)

    yield run
    await worker.close()


@pytest.fixture
def frozen_clock() -> Iterator[Callable[[datetime], None]]:
    from dreamer.core import clock

    yield clock.freeze
    clock.freeze(None)


# -- accounts -------------------------------------------------------------------------------------

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    id: uuid.UUID
    email: str
    access: str
    refresh: str
    password: str = PASSWORD

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


async def make_account(
    client: httpx.AsyncClient,
    owner: asyncpg.Connection,
    email: str,
    *,
    role: str = "client",
    status: str = "active",
    password: str = PASSWORD,
) -> Account:
    """Register through the API, then give the account its role and status as the owner."""
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": password, "firstName": "Test", "lastName": "User"},
    )
    assert response.status_code == 201, response.text
    user_id = uuid.UUID(response.json()["data"]["user"]["id"])
    await owner.execute(
        "update users set role = $2, status = 'active', email_verified = true where id = $1",
        user_id,
        role,
    )
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    data = login.json()["data"]
    if status != "active":
        await owner.execute("update users set status = $2 where id = $1", user_id, status)
    return Account(user_id, email, data["accessToken"], data["refreshToken"], password)


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    """The app under ``uvicorn`` with two worker processes on 127.0.0.1, on this test's
    database (rate limits lifted: load and fuzz tests are not brute-force attempts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = dict(
        os.environ,
        DATABASE_URL=str(settings.database_url),
        DATABASE_OWNER_URL=str(settings.database_owner_url),
        SECRET_KEY=settings.resolved_secret_key(),
        DREAMER_HOME=str(settings.dreamer_home),
        DREAMER_ENV="test",
        LOG_LEVEL="WARNING",
        DB_POOL_SIZE="20",
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_KIB="1024",
        ARGON2_PARALLELISM="1",
    )
    for name in Settings.model_fields:
        if name.startswith("rate_limit_"):
            env[name.upper()] = "1000000/60"
    log = settings.dreamer_home / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "dreamer.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "2",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=output,
            stderr=output,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


async def signed_in_headers(
    owner: asyncpg.Connection, secret: str, email: str, role: str
) -> dict[str, str]:
    """A signed-in account made directly in the database (no API calls, no rate limits)."""
    from dreamer.core.security import encode_access_token

    user_id = await owner.fetchval(
        "insert into users (email, first_name, last_name, role, status, email_verified) "
        "values ($1, 'T', 'U', $2, 'active', true) returning id",
        email,
        role,
    )
    session_id = await owner.fetchval(
        "insert into user_sessions (user_id, session_token, expires_at) "
        "values ($1, $2, now() + interval '1 day') returning id",
        user_id,
        secrets.token_hex(32),
    )
    token = encode_access_token(
        secret, user_id=user_id, role=role, session_id=session_id, ttl=dt.timedelta(minutes=30)
    )
    return {"Authorization": f"Bearer {token}"}
