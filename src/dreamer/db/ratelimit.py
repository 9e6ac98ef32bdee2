"""Rate limits kept in PostgreSQL, so they hold across worker processes.

A limit ``"N/seconds"`` is a token bucket: a burst of N hits, refilled at N per that many
seconds, so there is no window edge to lock someone out for a whole window or to let twice N
through. A hit may cost less than one (a form refused as invalid, say). Each hit runs in a
statement of its own (autocommit): a request that is refused, or that fails and rolls back,
still counts.
"""

from __future__ import annotations

from sqlalchemy import text

from dreamer.core.config import parse_rate
from dreamer.core.errors import RateLimited
from dreamer.db.session import Database

_HIT = text("select rate_limit_hit(:key, :limit, :window, :cost)")


class RateLimiter:
    def __init__(self, db: Database) -> None:
        self.db = db
        # One statement in autocommit: one round trip, and the bucket's row is locked only for
        # that statement (under a burst on one key the hits queue on that row, not on the pool).
        self.engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")

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
