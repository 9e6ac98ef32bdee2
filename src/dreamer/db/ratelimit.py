"""Rate limits kept in PostgreSQL, so they hold across worker processes.

A limit ``"N/seconds"`` is a token bucket: a burst of N hits, refilled at N per that many
seconds, so there is no window edge to lock someone out for a whole window or to let twice N
through. A hit may cost less than one (a form refused as invalid, say). Each hit runs in a
statement of its own (autocommit): a request that is refused, or that fails and rolls back,
still counts, on a small pool of its own whose connections commit without waiting for the
WAL (``synchronous_commit=off``): a bucket is no record worth a disk flush, so its row is
locked for microseconds and a burst on one key does not queue behind fsyncs. A crash may
forget the last fraction of a second of hits, which errs towards allowing. The setting
belongs to these connections only, so no other transaction can ever inherit it.
"""

from __future__ import annotations

from dreamer.core.config import parse_rate
from dreamer.core.errors import RateLimited
from dreamer.db.reader import LazyPool
from dreamer.db.urls import plain_url

_HIT = "select rate_limit_hit($1, $2, $3, $4)"


class RateLimiter:
    def __init__(self, url: str, *, pool_size: int = 4, pool_timeout: float = 30.0) -> None:
        # One statement in autocommit on raw asyncpg: one round trip, and the bucket's row is
        # locked only for that statement (under a burst on one key the hits queue on that
        # row, not on the pool). A fixed pool: a hit waits microseconds for a connection
        # rather than open one (an overflow pool opened and closed one per few requests).
        self.pool = LazyPool(
            plain_url(url),
            size=pool_size,
            timeout=pool_timeout,
            server_settings={"application_name": "dreamer-limits", "synchronous_commit": "off"},
        )

    async def dispose(self) -> None:
        await self.pool.close()

    async def hit(self, scope: str, subject: str, rate: str, cost: float = 1.0) -> None:
        """Count an attempt of ``cost`` for ``scope:subject``; raise 429 past ``rate``
        ("N/seconds"), with the seconds until the attempt would be allowed."""
        limit, window = parse_rate(rate)
        async with self.pool.acquire() as conn:
            retry_after = await conn.fetchval(_HIT, f"{scope}:{subject}", limit, window, cost)
        if retry_after:
            raise RateLimited(int(retry_after), "Too many attempts; try again later")
