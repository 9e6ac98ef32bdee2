"""One's own profile."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from dreamer.auth.schemas import UserOut
from dreamer.core.errors import Unauthorized
from dreamer.core.responses import Envelope, JSONResponse, ok
from dreamer.deps import BEARER_DOCS, AuthEnvDep, AuthSession, DbSession, SignedIn, caller
from dreamer.users import service
from dreamer.users.schemas import EraseIn, ErasureOut, ProfileIn

router = APIRouter(prefix="/users", tags=["users"])


# A hot signed-in read: it resolves the caller itself (deps.caller) and reads on raw asyncpg.
@router.get("/profile", response_model=Envelope[UserOut], dependencies=[BEARER_DOCS])
async def get_profile(request: Request) -> JSONResponse:
    """The signed-in account. `emailVerified` tells whether the address is confirmed."""
    ctx, database = await caller(request)
    if not ctx.is_authenticated:
        raise Unauthorized()
    user = await service.profile(database.public, ctx)
    return ok(UserOut.model_validate(dict(user)).model_dump(mode="json"))


@router.put("/profile", response_model=Envelope[UserOut])
async def update_profile(body: ProfileIn, db: DbSession, ctx: SignedIn) -> JSONResponse:
    """Update profile fields (only those sent). Any other field (role, status,
    emailVerified, id, email) is refused with 422 and nothing changes."""
    user = await service.update_profile(db, ctx, body)
    return ok(UserOut.model_validate(user).model_dump(mode="json"))


EXPORT_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}}, "description": "dreamer-export/1"}
}


def export_response(document: dict[str, object], user_id: object) -> JSONResponse:
    """The export as a download (``dreamer-export-<id>.json``)."""
    return JSONResponse(
        document,
        headers={
            "Content-Disposition": f'attachment; filename="dreamer-export-{user_id}.json"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/me/export", responses=EXPORT_DOC)
async def export_own_data(db: DbSession, ctx: SignedIn) -> JSONResponse:
    """Everything the system holds about you, as one JSON document (format
    `dreamer-export/1`, described in the README): profile, sessions, bookings, leads and
    their activities, chat, newsletter and consents, mail sent, analytics events linked to
    you, audit entries about you. Secrets (password and token hashes) are never included."""
    assert ctx.user_id is not None
    return export_response(await service.export(db, ctx.user_id), ctx.user_id)


@router.delete("/me", response_model=Envelope[ErasureOut])
async def erase_own_account(
    body: EraseIn, db: AuthSession, ctx: SignedIn, env: AuthEnvDep
) -> JSONResponse:
    """Erase your account (GDPR art. 17), confirming with your password: your account,
    sessions, bookings (completed ones are kept for accounting, without you), leads, chat and
    newsletter subscriptions are deleted; audit entries and usage figures are kept under a
    pseudonym with your details removed; your address is suppressed from the newsletter.
    `dryRun: true` reports what would happen and changes nothing."""
    report = await service.erase_own_account(db, env, ctx, body.password, body.dry_run)
    return ok(ErasureOut.model_validate(report).model_dump(mode="json"))
