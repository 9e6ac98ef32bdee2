"""One's own profile."""

from __future__ import annotations

from fastapi import APIRouter

from dreamer.auth.schemas import UserOut
from dreamer.core.responses import Envelope, JSONResponse, ok
from dreamer.deps import DbSession, SignedIn
from dreamer.users import service
from dreamer.users.schemas import ProfileIn

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/profile", response_model=Envelope[UserOut])
async def get_profile(db: DbSession, ctx: SignedIn) -> JSONResponse:
    """The signed-in account. `emailVerified` tells whether the address is confirmed."""
    user = await service.profile(db, ctx)
    return ok(UserOut.model_validate(user).model_dump(mode="json"))


@router.put("/profile", response_model=Envelope[UserOut])
async def update_profile(body: ProfileIn, db: DbSession, ctx: SignedIn) -> JSONResponse:
    """Update profile fields (only those sent). Any other field (role, status,
    emailVerified, id, email) is refused with 422 and nothing changes."""
    user = await service.update_profile(db, ctx, body)
    return ok(UserOut.model_validate(user).model_dump(mode="json"))
