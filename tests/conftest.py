"""Test harness: one throwaway PostgreSQL per session, a migrated template, a clone per test.

With ``TEST_DATABASE_URL`` (a superuser URL of a disposable server) that server is used;
otherwise an embedded cluster starts on tmpfs with fsync off. The template is migrated once;
``fresh_db`` clones it per test (``STRATEGY FILE_COPY``, ~50 ms on tmpfs) so tests that commit
across connections stay isolated. Everything the tests do through the API or ``app_conn`` runs
as ``dreamer_app``, so Row Level Security applies exactly as in production.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from dreamer.core.config import Settings
from dreamer.db.embedded import EmbeddedPostgres
from tests.harness import (
    ClonedDatabase,
    Cluster,
    MailSink,
    clone_database,
    drop_database,
    make_settings,
    prepare_template,
    run_server,
    superuser_url_for,
)


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
        superuser_url = superuser_url_for(server)
    result = Cluster(superuser_url, *(secrets.token_urlsafe(16) for _ in range(4)))
    asyncio.run(prepare_template(result))
    yield result
    if server is not None:
        server.stop()
    if tmp is not None:
        tmp.cleanup()


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


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from dreamer.app import close_pools, create_app

    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await close_pools(app)


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

    assert settings.database_worker_url
    worker = build_worker(settings, settings.database_worker_url)

    async def run() -> None:
        await worker.run(wait=False)

    yield run
    await worker.close()


@pytest.fixture
def frozen_clock() -> Iterator[Callable[[datetime], None]]:
    from dreamer.core import clock

    yield clock.freeze
    clock.freeze(None)


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    """The app under ``uvicorn`` with two worker processes on 127.0.0.1, on this test's
    database (rate limits lifted: load and fuzz tests are not brute-force attempts)."""
    lifted = {n.upper(): "1000000/60" for n in Settings.model_fields if n.startswith("rate_limit_")}
    with run_server(settings, DB_POOL_SIZE="20", **lifted) as base:
        yield base


AppWith = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def app_with(settings: Settings) -> AppWith:
    """A client of another app on the test database, with these settings changed
    (``async with app_with(chat_quotas="…") as http``), seen from one client IP."""

    @asynccontextmanager
    async def running(**update: Any) -> AsyncIterator[httpx.AsyncClient]:
        from dreamer.app import close_pools, create_app

        app = create_app(settings.model_copy(update=update))
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield http
        finally:
            await close_pools(app)

    return running
