"""Helpers shared by the domain repositories."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.db.session import Database, RequestContext

M = TypeVar("M")


async def insert_and_get(session: AsyncSession, model: type[M], values: dict[str, Any]) -> M:
    """Insert a row with a client-made id, then load it (under the caller's RLS)."""
    new_id = uuid.uuid4()
    await session.execute(insert(model).values(id=new_id, **values))
    created = await session.get(model, new_id)
    assert created is not None, "a row we just inserted is visible to us"
    return created


INSERT_BATCH = 1000  # rows per INSERT: well under asyncpg's 32,767 bind parameters


async def insert_many(
    session: AsyncSession,
    model: type[Any],
    rows: list[dict[str, Any]],
    *,
    batch: int = INSERT_BATCH,
) -> None:
    """Insert many rows with client-made ids, a batch per statement: an import of 200,000 rows
    stays one transaction without any statement exceeding the driver's parameter limit."""
    for start in range(0, len(rows), batch):
        chunk = [{"id": uuid.uuid4(), **row} for row in rows[start : start + batch]]
        await session.execute(insert(model), chunk)


Position = tuple[Any, ...]
Fetch = Callable[[AsyncSession, Position | None, int], Awaitable[Sequence[M]]]


async def export_rows(
    session: AsyncSession,
    database: Database,
    ctx: RequestContext,
    fetch: Fetch[M],
    key: Callable[[M], Position],
    batch: int = 1000,
) -> AsyncIterator[M]:
    """Every row ``fetch`` pages through by keyset, for a streamed download.

    The first batch is read now, in the request's transaction, so a bad filter is an error
    response rather than a broken download; the rest streams from a read transaction of its
    own (same caller, same RLS), opened as the response goes out.
    """
    first = await fetch(session, None, batch)

    async def rows() -> AsyncIterator[M]:
        for row in first:
            yield row
        if len(first) < batch:
            return
        after = key(first[-1])
        async with database.transaction(ctx) as own:
            while page := await fetch(own, after, batch):
                for row in page:
                    yield row
                after = key(page[-1])

    return rows()
