"""One asyncpg transaction that a dry run rehearses: every statement, check and trigger runs,
and nothing stays (the imports and the CLI erasure)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


@asynccontextmanager
async def transaction(conn: asyncpg.Connection, *, dry_run: bool) -> AsyncIterator[None]:
    """Committed when the block succeeds, rolled back when it fails or when ``dry_run``."""
    tx = conn.transaction()
    await tx.start()
    try:
        yield
    except BaseException:
        await tx.rollback()
        raise
    if dry_run:
        await tx.rollback()
    else:
        await tx.commit()
