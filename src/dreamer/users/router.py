"""One's own profile."""

from __future__ import annotations

from fastapi import APIRouter, Request

from dreamer.auth.schemas import UserOut
from dreamer.core.errors import Unauthorized
from dreamer.core.responses import Envelope, JSONResponse, ok
from dreamer.deps import BEARER_DOCS, DbSession, SignedIn, caller
from dreamer.users import service
from dreamer.users.schemas import ProfileIn

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
