"""The audit trail for staff: every change to the business tables and every security event."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from dreamer.audit import service
from dreamer.audit.schemas import AuditEntryOut
from dreamer.core.pagination import cursor_meta
from dreamer.core.responses import Envelope, JSONResponse, ok
from dreamer.deps import DbSession, Staff

router = APIRouter(prefix="/admin/audit", tags=["admin: audit"])
NAME = r"^[a-z_]+(\.[a-z_]+)?$"


@router.get("", response_model=Envelope[list[AuditEntryOut]])
async def audit_trail(
    db: DbSession,
    ctx: Staff,
    entity_type: Annotated[
        str | None,
        Query(alias="entityType", max_length=100, pattern=NAME, description="e.g. leads"),
    ] = None,
    entity_id: Annotated[uuid.UUID | None, Query(alias="entityId")] = None,
    user_id: Annotated[uuid.UUID | None, Query(alias="userId", description="who acted")] = None,
    action: Annotated[
        str | None,
        Query(max_length=100, pattern=NAME, description="insert, update, delete, auth.login…"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> JSONResponse:
    """The trail, newest first, of one entity (`entityType` and `entityId`), of one actor
    (`userId`), or of everything; pass `meta.nextCursor` as `cursor` for the next page."""
    entries, next_cursor = await service.trail(
        db,
        entity_type=entity_type,
        entity_id=entity_id,
        user_id=user_id,
        action=action,
        cursor=cursor,
        limit=limit,
    )
    data = [AuditEntryOut.model_validate(e).model_dump(mode="json") for e in entries]
    return ok(data, cursor_meta(limit, next_cursor))
