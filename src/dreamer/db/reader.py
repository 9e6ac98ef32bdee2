"""The hottest reads on raw asyncpg: no ORM, no session; anonymous ones in one round trip.

The hottest reads of the site (the catalogue today; pages and case studies next) are anonymous
and read-only. They run here on a small pool of the app role whose connections are read-only
(``default_transaction_read_only``: PostgreSQL refuses any write) and carry no request context:
RLS reads an unset context as the anonymous caller, the least any policy allows, so these
statements see exactly what an anonymous request through the ORM would. Statements are
parameterised (``$1``…) and prepared once per connection by asyncpg. JSON columns come back
decoded.

A signed-in caller's hot reads (own profile, own bookings) come through ``as_caller``: a
read-only transaction that starts with ``app_begin`` — the same statement, the same session
check and the same RLS context as ``Database.transaction`` — then the reads, then COMMIT.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson

from dreamer.core.config import SHUTDOWN_SECONDS
from dreamer.db.context import BEGIN_RAW, RequestContext, StaleIdentity, context_args


async def _codecs(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind,
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """asyncpg's default reset sends ``RESET ALL; UNLISTEN *; …`` on every release: a round
    trip per request. These connections never hold session state (plain reads, no
    ``set_config``, no LISTEN, no advisory locks), so there is nothing to reset."""


class LazyPool:
    """An asyncpg pool of at most ``size`` connections, opened on first use and kept: a
    request beyond ``size`` waits for a connection (``timeout``: then 503) rather than opening
    one for itself. A connection opened per burst costs a fork, a SCRAM handshake and a cold
    plan cache on the server, several times the statement it was opened for."""

    def __init__(
        self, url: str, *, size: int, timeout: float, server_settings: dict[str, str]
    ) -> None:
        self.url = url
        self.size = size
        self.timeout = timeout
        self.server_settings = server_settings
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self.url,
                        min_size=1,
                        max_size=self.size,
                        init=_codecs,
                        reset=_nothing_to_reset,
                        server_settings=self.server_settings,
                    )
        return self._pool

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        pool = await self.get()
        async with pool.acquire(timeout=self.timeout) as conn:
            try:
                yield conn
            except (asyncpg.InterfaceError, asyncpg.InternalClientError):
                # A connection the server dropped while it sat idle can fail with a protocol
                # state error (MagicStack/asyncpg#1069) and stay open: never pool it again.
                conn.terminate()
                raise

    async def close(self) -> None:
        """Close the pool, waiting at most SHUTDOWN_SECONDS for connections still in use."""
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), SHUTDOWN_SECONDS)
            except TimeoutError:
                pool.terminate()


class PublicReader(LazyPool):
    def __init__(self, url: str, *, size: int, timeout: float) -> None:
        super().__init__(
            url,
            size=size,
            timeout=timeout,
            server_settings={
                "application_name": "dreamer-read",
                "default_transaction_read_only": "on",
            },
        )

    async def fetch(self, sql: str, *args: Any) -> Sequence[asyncpg.Record]:
        async with self.acquire() as conn:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
            return rows

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        async with self.acquire() as conn:
            row: asyncpg.Record | None = await conn.fetchrow(sql, *args)
            return row

    @asynccontextmanager
    async def as_caller(self, ctx: RequestContext) -> AsyncIterator[asyncpg.Connection]:
        """A read-only transaction as ``ctx`` (401 when its session has ended)."""
        async with self.acquire() as conn, conn.transaction(readonly=True):
            if not await conn.fetchval(BEGIN_RAW, *context_args(ctx)):
                raise StaleIdentity
            yield conn
