"""The test harness: one throwaway PostgreSQL per session, a migrated template database cloned
per test (``STRATEGY FILE_COPY``, ~50 ms on tmpfs), app settings for a clone, and a real SMTP
sink. Fixtures that use these live in ``conftest.py``."""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import httpx
import uvicorn
from starlette.types import ASGIApp

from dreamer.core.config import SHUTDOWN_SECONDS, Settings
from dreamer.db import migrate
from dreamer.db.bootstrap import ensure_database, ensure_roles, grant_connect
from dreamer.db.embedded import (
    APP_ROLE,
    AUTH_ROLE,
    OWNER_ROLE,
    SUPERUSER,
    WORKER_ROLE,
    EmbeddedPostgres,
)

TEMPLATE = "dreamer_template"


_counter = itertools.count()


@dataclass(frozen=True)
class Cluster:
    superuser_url: str
    owner_password: str
    app_password: str
    auth_password: str
    worker_password: str

    def url(self, role: str, database: str) -> str:
        parts = urlsplit(self.superuser_url)
        password = {
            OWNER_ROLE: self.owner_password,
            APP_ROLE: self.app_password,
            AUTH_ROLE: self.auth_password,
            WORKER_ROLE: self.worker_password,
        }[role]
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
    auth_url: str
    worker_url: str


def superuser_url_for(server: EmbeddedPostgres) -> str:
    return server.url(SUPERUSER, "postgres")


async def prepare_template(c: Cluster) -> None:
    conn = await asyncpg.connect(c.superuser_url)
    try:
        await ensure_roles(
            conn,
            owner_password=c.owner_password,
            app_password=c.app_password,
            auth_password=c.auth_password,
            worker_password=c.worker_password,
        )
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
        await grant_connect(conn, name)
    finally:
        await conn.close()
    return ClonedDatabase(
        name,
        c.url(APP_ROLE, name),
        c.url(OWNER_ROLE, name),
        c.url(AUTH_ROLE, name),
        c.url(WORKER_ROLE, name),
    )


async def drop_database(c: Cluster, name: str) -> None:
    conn = await asyncpg.connect(c.superuser_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


def make_settings(db: ClonedDatabase, home: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "dreamer_env": "test",
        "dreamer_home": home,
        "database_url": db.app_url,
        "database_owner_url": db.owner_url,
        "database_auth_url": db.auth_url,
        "database_worker_url": db.worker_url,
        "secret_key": "test-secret-" + "x" * 40,
        "db_pool_size": 4,
        # cheap hashing in tests; tests/auth/test_passwords.py checks the production parameters
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "argon2_parallelism": 1,
        "frontend_url": "https://dreamer.test",
        "public_url": "http://testserver",  # the test client's base: mailed links open there
        "trusted_proxies": ["203.0.113.7/32"],
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


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

    def url(self, address: str, path: str) -> str:
        """The newest link to ``path`` (with its token) in a mail to ``address``."""
        for message in reversed(self.to(address)):
            body = message.get_body(("plain",))
            assert body is not None
            match = re.search(
                rf"https?://[\w.:-]+{re.escape(path)}\?token=[A-Za-z0-9_-]+", body.get_content()
            )
            if match:
                return match.group(0)
        raise AssertionError(f"no mail to {address} with a {path} link")

    def link(self, address: str, path: str) -> str:
        """The token of the newest mail to ``address`` linking to ``path``."""
        return self.url(address, path).rpartition("=")[2]


def run_cli(
    db: ClonedDatabase, home: Path, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``dreamer ARGS…`` as a separate process on the database ``db`` (cheap Argon2id)."""
    env = dict(
        os.environ,
        DATABASE_URL=db.app_url,
        DATABASE_OWNER_URL=db.owner_url,
        DREAMER_HOME=str(home),
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_KIB="1024",
    )
    return subprocess.run(
        [sys.executable, "-m", "dreamer.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_server(settings: Settings, **overrides: str) -> AbstractContextManager[str]:
    """The app under ``uvicorn`` with two worker processes on 127.0.0.1 (its base URL), on the
    database of ``settings``; ``overrides`` are more environment variables (``DB_POOL_SIZE``…)."""
    return _server(settings, False, overrides)


def run_dreamer_serve(settings: Settings, **overrides: str) -> AbstractContextManager[str]:
    """The same, started as ``dreamer serve --port …`` is: with its mail worker (unless
    ``RUN_WORKER=false``) and the settings it derives from the port."""
    return _server(settings, True, overrides)


@contextmanager
def _server(settings: Settings, cli: bool, overrides: dict[str, str]) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = dict(
        os.environ,
        DATABASE_URL=str(settings.database_url),
        DATABASE_OWNER_URL=str(settings.database_owner_url),
        DATABASE_AUTH_URL=str(settings.database_auth_url),
        DATABASE_WORKER_URL=str(settings.database_worker_url),
        SECRET_KEY=settings.resolved_secret_key(),
        DREAMER_HOME=str(settings.dreamer_home),
        DREAMER_ENV="test",
        LOG_LEVEL="WARNING",
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_KIB="1024",
        ARGON2_PARALLELISM="1",
    )
    env.update(overrides)
    log = settings.dreamer_home / "server.log"
    with open(log, "wb") as output:
        command = (
            [sys.executable, "-m", "dreamer.cli", "serve", "--port", str(port), "--no-migrate"]
            if cli
            else [
                sys.executable,
                "-m",
                "uvicorn",
                "dreamer.app:create_app",
                "--factory",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--timeout-graceful-shutdown",
                str(int(SHUTDOWN_SECONDS)),
            ]
        )
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--workers", "2"],
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True,  # its workers go with it if it must be killed
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
        _stop(process, log)


def _stop(process: subprocess.Popen[bytes], log: Path) -> None:
    """A stop must be prompt: every stage of the server's shutdown is bounded by
    SHUTDOWN_SECONDS, so a server still running well after that is a bug; it is killed (with
    its workers) and the test fails with the end of its log."""
    process.terminate()
    try:
        process.wait(timeout=SHUTDOWN_SECONDS * 4)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        tail = log.read_text(errors="replace")[-4000:]
        limit = SHUTDOWN_SECONDS * 4
        raise AssertionError(f"the server did not stop within {limit:.0f} s:\n{tail}") from None


@contextmanager
def serve_asgi(app: ASGIApp) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1 in a thread: a real HTTP server
    for a test to talk to (a fake LLM or voice provider); its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
