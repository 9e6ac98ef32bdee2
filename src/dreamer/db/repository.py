"""Helpers shared by the domain repositories."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

M = TypeVar("M")


async def insert_and_get(session: AsyncSession, model: type[M], values: dict[str, Any]) -> M:
    """Insert a row with a client-made id, then load it (under the caller's RLS)."""
    new_id = uuid.uuid4()
    await session.execute(insert(model).values(id=new_id, **values))
    created = await session.get(model, new_id)
    assert created is not None, "a row we just inserted is visible to us"
    return created
