"""The service catalogue: public reads, staff writes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from dreamer.catalog import service
from dreamer.catalog.schemas import ReorderIn, ServiceIn, ServiceOut, ServicePatch
from dreamer.core.responses import Envelope, JSONResponse, PageMeta, ok
from dreamer.deps import BEARER_DOCS, DbSession, Staff, caller
from dreamer.models import Service

router = APIRouter(prefix="/services", tags=["catalogue"])

Slug = Annotated[str, Path(min_length=1, max_length=200)]


def _out(item: Service | Mapping[str, Any]) -> dict[str, object]:
    if isinstance(item, Service):
        return ServiceOut.model_validate(item).model_dump(mode="json")
    return ServiceOut.model_validate(dict(item)).model_dump(mode="json")


# The two public reads resolve the caller themselves (deps.caller): they are the hottest routes.
@router.get("", response_model=Envelope[list[ServiceOut]], dependencies=[BEARER_DOCS])
async def list_services(
    request: Request,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    is_active: Annotated[
        bool | None, Query(alias="isActive", description="staff only: filter by state")
    ] = None,
) -> JSONResponse:
    """Active services in display order (`sortOrder`), paginated; `meta` has the totals.
    Staff see inactive services too, and may filter with `isActive`."""
    ctx, database = await caller(request)
    if not ctx.is_authenticated:
        rows, total = await service.public_services(database.public, page=page, limit=limit)
        return ok([_out(r) for r in rows], PageMeta.of(page, limit, total))
    async with database.read(ctx) as db:  # a read-only unit of work
        services, total = await service.list_services(
            db, staff=ctx.is_staff, is_active=is_active, page=page, limit=limit
        )
    return ok([_out(s) for s in services], PageMeta.of(page, limit, total))


@router.post("", status_code=201, response_model=Envelope[ServiceOut])
async def create_service(body: ServiceIn, db: DbSession, ctx: Staff) -> JSONResponse:
    """Add a service (staff). `pricing.type` is fixed, custom, hourly or workshop."""
    created = await service.create(db, body)
    return ok(_out(created), status=201)


@router.post("/reorder", response_model=Envelope[dict[str, int]])
async def reorder_services(body: ReorderIn, db: DbSession, ctx: Staff) -> JSONResponse:
    """Set the display order (staff): the listed ids get sortOrder 1, 2, 3, …"""
    await service.reorder(db, body.ids)
    return ok({"reordered": len(body.ids)})


@router.get(
    "/{slug}",
    response_model=Envelope[ServiceOut],
    responses={404: {"description": "No active service has this slug"}},
    dependencies=[BEARER_DOCS],
)
async def get_service(request: Request, slug: Slug) -> JSONResponse:
    """One active service by its slug (a former slug of a renamed service works too)."""
    ctx, database = await caller(request)
    if not ctx.is_authenticated:
        return ok(_out(await service.public_service(database.public, slug)))
    async with database.read(ctx) as db:  # a read-only unit of work
        return ok(_out(await service.get_active(db, slug)))


@router.patch("/{service_id}", response_model=Envelope[ServiceOut])
async def update_service(
    service_id: uuid.UUID, body: ServicePatch, db: DbSession, ctx: Staff
) -> JSONResponse:
    """Change a service (staff); `isActive: false` deactivates it. A new slug keeps the old
    one resolving."""
    updated = await service.update(db, service_id, body)
    return ok(_out(updated))


@router.delete("/{service_id}", response_model=Envelope[dict[str, str]])
async def delete_service(service_id: uuid.UUID, db: DbSession, ctx: Staff) -> JSONResponse:
    """Delete a service that was never booked (staff); 409 otherwise (deactivate instead)."""
    await service.delete(db, service_id)
    return ok({"message": "Service deleted"})
