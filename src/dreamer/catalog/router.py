"""Public catalogue: the consulting services offered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from dreamer.catalog import service
from dreamer.catalog.schemas import ServiceOut
from dreamer.core.responses import Envelope, JSONResponse, PageMeta, ok
from dreamer.deps import DbSession

router = APIRouter(prefix="/services", tags=["catalogue"])

Slug = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("", response_model=Envelope[list[ServiceOut]])
async def list_services(
    db: DbSession,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    """Active services in display order (`sortOrder`), paginated; `meta` has the totals."""
    services, total = await service.list_active(db, page=page, limit=limit)
    data = [ServiceOut.model_validate(s).model_dump(mode="json") for s in services]
    return ok(data, PageMeta.of(page, limit, total))


@router.get(
    "/{slug}",
    response_model=Envelope[ServiceOut],
    responses={404: {"description": "No active service has this slug"}},
)
async def get_service(db: DbSession, slug: Slug) -> JSONResponse:
    """One active service by its slug."""
    found = await service.get_active(db, slug)
    return ok(ServiceOut.model_validate(found).model_dump(mode="json"))
