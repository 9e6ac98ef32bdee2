"""Anonymous public reads on raw asyncpg: no ORM, no session, one pooled round trip.

The hottest reads of the site (the catalogue today; pages and case studies next) are anonymous
and read-only. They run here on a small pool of the app role whose connections are read-only
(``default_transaction_read_only``: PostgreSQL refuses any write) and carry no request context:
RLS reads an unset context as the anonymous caller, the least any policy allows, so these
statements see exactly what an anonymous request through the ORM would. Statements are
parameterised (``$1``…) and prepared once per connection by asyncpg. JSON columns come back
decoded. Signed-in callers never come here (their reads carry their identity).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from dreamer.core.config import SHUTDOWN_SECONDS


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


class PublicReader:
    def __init__(self, url: str, *, size: int, timeout: float) -> None:
        self.url = url
        self.size = size
        self.timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def _get(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self.url,
                        min_size=1,
                        max_size=self.size,
                        init=_codecs,
                        reset=_nothing_to_reset,
                        server_settings={
                            "application_name": "dreamer-public-read",
                            "default_transaction_read_only": "on",
                        },
                    )
        return self._pool

    async def fetch(self, sql: str, *args: Any) -> Sequence[asyncpg.Record]:
        pool = await self._get()
        async with pool.acquire(timeout=self.timeout) as conn:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
            return rows

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        pool = await self._get()
        async with pool.acquire(timeout=self.timeout) as conn:
            row: asyncpg.Record | None = await conn.fetchrow(sql, *args)
            return row

    async def close(self) -> None:
        """Close the pool, waiting at most SHUTDOWN_SECONDS for connections still in use."""
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), SHUTDOWN_SECONDS)
            except TimeoutError:
                pool.terminate()
