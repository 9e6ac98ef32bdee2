"""Staff user management."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from dreamer.auth.schemas import UserOut
from dreamer.core.pagination import cursor_meta
from dreamer.core.responses import Envelope, JSONResponse, ok
from dreamer.deps import DbSession, Staff
from dreamer.models import UserRole, UserStatus
from dreamer.users import service
from dreamer.users.router import EXPORT_DOC, export_response
from dreamer.users.schemas import AdminUserPatch, ErasureOut

router = APIRouter(prefix="/admin/users", tags=["admin: users"])


@router.get("", response_model=Envelope[list[UserOut]])
async def list_users(
    db: DbSession,
    ctx: Staff,
    role: UserRole | None = None,
    status: UserStatus | None = None,
    q: Annotated[str | None, Query(max_length=200, description="name or e-mail contains")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    """Users, newest first. Pass `meta.nextCursor` as `cursor` for the next page."""
    users, next_cursor = await service.list_users(
        db, role=role, status=status, search=q, cursor=cursor, limit=limit
    )
    data = [UserOut.model_validate(u).model_dump(mode="json") for u in users]
    return ok(data, cursor_meta(limit, next_cursor))


@router.get("/{user_id}", response_model=Envelope[UserOut])
async def get_user(user_id: uuid.UUID, db: DbSession, ctx: Staff) -> JSONResponse:
    """One user."""
    user = await service.get_user(db, user_id)
    return ok(UserOut.model_validate(user).model_dump(mode="json"))


@router.patch("/{user_id}", response_model=Envelope[UserOut])
async def patch_user(
    user_id: uuid.UUID, body: AdminUserPatch, db: DbSession, ctx: Staff
) -> JSONResponse:
    """Change status (suspending ends the user's sessions) or role. Granting or revoking
    admin/super_admin, or touching a super_admin, needs a super_admin."""
    user = await service.administer(
        db, ctx, user_id, status=body.status, role=body.role, accepts_leads=body.accepts_leads
    )
    return ok(UserOut.model_validate(user).model_dump(mode="json"))


@router.get("/{user_id}/export", responses=EXPORT_DOC)
async def export_user_data(user_id: uuid.UUID, db: DbSession, ctx: Staff) -> JSONResponse:
    """A person's data export (as `GET /users/me/export` gives them): staff for accounts
    that are not staff, a super_admin for any."""
    return export_response(await service.export(db, user_id), user_id)


@router.delete("/{user_id}", response_model=Envelope[ErasureOut])
async def erase_user(
    user_id: uuid.UUID,
    db: DbSession,
    ctx: Staff,
    dry_run: Annotated[bool, Query(alias="dryRun")] = False,
) -> JSONResponse:
    """Erase an account (as `DELETE /users/me` does; recorded as asked by staff):
    `?dryRun=true` reports per table what would happen and changes nothing."""
    report = await service.erase_account(db, user_id, dry_run=dry_run)
    return ok(ErasureOut.model_validate(report).model_dump(mode="json"))
