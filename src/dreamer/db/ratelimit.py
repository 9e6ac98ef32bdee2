"""Rate limits kept in PostgreSQL, so they hold across worker processes.

Each hit runs in a short transaction of its own: a request that is refused, or that fails and
rolls back, still counts.
"""

from __future__ import annotations

from sqlalchemy import text

from dreamer.core.config import parse_rate
from dreamer.core.errors import RateLimited
from dreamer.db.session import Database

_HIT = text("select rate_limit_hit(:key, :limit, :window)")


class RateLimiter:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def hit(self, scope: str, subject: str, rate: str) -> None:
        """Count one attempt for ``scope:subject``; raise 429 past ``rate`` ("N/seconds")."""
        limit, window = parse_rate(rate)
        async with self.db.engine.begin() as conn:
            retry_after = await conn.scalar(
                _HIT,
                {"key": f"{scope}:{subject}", "limit": limit, "window": window},
            )
        if retry_after:
            raise RateLimited(int(retry_after), "Too many attempts; try again later")
