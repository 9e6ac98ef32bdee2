"""Business rules of the service catalogue."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.catalog import repository
from dreamer.core.errors import NotFound
from dreamer.models import Service


async def list_active(
    session: AsyncSession, *, page: int, limit: int
) -> tuple[Sequence[Service], int]:
    """Active services in display order, one page of them, and how many there are."""
    total = await repository.count_active(session)
    services = await repository.list_active(session, offset=(page - 1) * limit, limit=limit)
    return services, total


async def get_active(session: AsyncSession, slug: str) -> Service:
    service = await repository.get_active_by_slug(session, slug)
    if service is None:
        raise NotFound(f"No service with slug '{slug}'")
    return service
