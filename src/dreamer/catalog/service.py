"""Business rules of the service catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.catalog import repository
from dreamer.catalog.pricing import pricing_json
from dreamer.catalog.schemas import ServiceIn, ServicePatch
from dreamer.core.errors import Conflict, NotFound, ValidationFailed
from dreamer.db.reader import PublicReader
from dreamer.models import Service


async def list_services(
    session: AsyncSession, *, staff: bool, is_active: bool | None, page: int, limit: int
) -> tuple[Sequence[Service], int]:
    """Active services in display order; staff may ask for inactive ones (or all)."""
    active = is_active if staff else True
    total = await repository.count(session, is_active=active)
    services = await repository.list_page(
        session, is_active=active, offset=(page - 1) * limit, limit=limit
    )
    return services, total


async def public_services(
    reader: PublicReader, *, page: int, limit: int
) -> tuple[Sequence[Mapping[str, Any]], int]:
    """What ``list_services`` gives an anonymous caller, on the raw public reader."""
    return await repository.public_page(reader, offset=(page - 1) * limit, limit=limit)


async def public_service(reader: PublicReader, slug: str) -> Mapping[str, Any]:
    """What ``get_active`` gives an anonymous caller, on the raw public reader."""
    found = await repository.public_by_slug(reader, slug)
    if found is None:
        raise NotFound(f"No service with slug '{slug}'")
    return found


async def get_active(session: AsyncSession, slug: str) -> Service:
    service = await repository.get_by_slug(session, slug, active_only=True)
    if service is None:
        raise NotFound(f"No service with slug '{slug}'")
    return service


async def resolve(session: AsyncSession, id_or_slug: str) -> Service:
    """An active service by id or slug (the booking contract accepts either)."""
    try:
        service = await repository.get(session, uuid.UUID(id_or_slug))
        if service is not None and not service.is_active:
            service = None
    except ValueError:
        service = await repository.get_by_slug(session, id_or_slug, active_only=True)
    if service is None:
        raise NotFound(f"No active service '{id_or_slug}'")
    return service


async def find(session: AsyncSession, service_id: uuid.UUID) -> Service | None:
    """The service, active or not, if the caller may see it."""
    return await repository.get(session, service_id)


async def get(session: AsyncSession, service_id: uuid.UUID) -> Service:
    service = await repository.get(session, service_id)
    if service is None:
        raise NotFound("No such service")
    return service


def _row_values(data: ServiceIn | ServicePatch) -> dict[str, Any]:
    """The columns to write: the fields sent, pricing in its stored JSON form."""
    values = data.model_dump(exclude_unset=isinstance(data, ServicePatch))
    if values.get("pricing") is not None:
        values["pricing"] = pricing_json(values["pricing"])
    return values


async def _slug_taken(session: AsyncSession, slug: str, by_other_than: uuid.UUID | None) -> bool:
    found = await repository.get_by_slug(session, slug, active_only=False)
    return found is not None and found.id != by_other_than and found.slug == slug


async def create(session: AsyncSession, data: ServiceIn) -> Service:
    if await _slug_taken(session, data.slug, None):
        raise Conflict(f"The slug '{data.slug}' is taken")
    service_id = await repository.create(session, _row_values(data))
    return await get(session, service_id)


async def update(session: AsyncSession, service_id: uuid.UUID, data: ServicePatch) -> Service:
    """Change fields; a new slug keeps the old one resolving (``previous_slugs``)."""
    service = await get(session, service_id)
    values = {k: v for k, v in _row_values(data).items() if v is not None}
    new_slug = values.get("slug")
    if new_slug and new_slug != service.slug:
        if await _slug_taken(session, new_slug, service_id):
            raise Conflict(f"The slug '{new_slug}' is taken")
        values["previous_slugs"] = [
            s for s in dict.fromkeys([*service.previous_slugs, service.slug]) if s != new_slug
        ]
    if values:
        await repository.update_fields(session, service_id, values)
    return await get(session, service_id)


async def delete(session: AsyncSession, service_id: uuid.UUID) -> None:
    await get(session, service_id)
    if not await repository.remove(session, service_id):
        raise Conflict("This service has bookings: deactivate it instead (isActive: false)")


async def reorder(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    if len(set(ids)) != len(ids):
        raise ValidationFailed("Each service may appear once")
    if await repository.set_order(session, ids) != len(ids):
        raise NotFound("Some of these services do not exist")
