"""SQL for the service catalogue."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.models import Service


async def list_active(session: AsyncSession, *, offset: int, limit: int) -> Sequence[Service]:
    query = (
        select(Service)
        .where(Service.is_active)
        .order_by(Service.sort_order, Service.name)
        .offset(offset)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def count_active(session: AsyncSession) -> int:
    query = select(func.count()).select_from(Service).where(Service.is_active)
    return int(await session.scalar(query) or 0)


async def get_active_by_slug(session: AsyncSession, slug: str) -> Service | None:
    query = select(Service).where(Service.slug == slug, Service.is_active)
    return (await session.scalars(query)).one_or_none()
