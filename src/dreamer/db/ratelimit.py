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

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from dreamer.core.config import parse_rate
from dreamer.core.errors import RateLimited
from dreamer.db.urls import async_url

_HIT = text("select rate_limit_hit(:key, :limit, :window, :cost)")


class RateLimiter:
    def __init__(self, url: str, *, pool_size: int = 4, pool_timeout: float = 30.0) -> None:
        # One statement in autocommit: one round trip, and the bucket's row is locked only for
        # that statement (under a burst on one key the hits queue on that row, not on the pool).
        self.engine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=pool_timeout,
            pool_recycle=1800,
            hide_parameters=True,
            isolation_level="AUTOCOMMIT",
            connect_args={
                "server_settings": {
                    "application_name": "dreamer-limits",
                    "synchronous_commit": "off",
                }
            },
        )

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def hit(self, scope: str, subject: str, rate: str, cost: float = 1.0) -> None:
        """Count an attempt of ``cost`` for ``scope:subject``; raise 429 past ``rate``
        ("N/seconds"), with the seconds until the attempt would be allowed."""
        limit, window = parse_rate(rate)
        async with self.engine.connect() as conn:
            retry_after = await conn.scalar(
                _HIT,
                {"key": f"{scope}:{subject}", "limit": limit, "window": window, "cost": cost},
            )
        if retry_after:
            raise RateLimited(int(retry_after), "Too many attempts; try again later")
