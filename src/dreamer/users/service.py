"""Profiles (one's own) and user management (staff)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.auth import service as auth
from dreamer.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from dreamer.core.pagination import decode_cursor, split_page
from dreamer.db import audit
from dreamer.db.context import StaleIdentity
from dreamer.db.reader import PublicReader
from dreamer.db.session import RequestContext
from dreamer.models import STAFF_ROLES, User, UserRole, UserStatus
from dreamer.users import repository
from dreamer.users.schemas import ProfileIn


async def profile(reader: PublicReader, ctx: RequestContext) -> Mapping[str, Any]:
    """The caller's own account: one statement on the raw reader, under RLS as the caller
    (``own_profile()``); 401 when the token's session has ended or the account changed."""
    assert ctx.user_id is not None
    user = await repository.own_profile(reader, ctx)
    if user is None:
        raise StaleIdentity
    return user


async def update_profile(session: AsyncSession, ctx: RequestContext, changes: ProfileIn) -> User:
    """Only the fields the caller sent change."""
    assert ctx.user_id is not None
    if values := changes.model_dump(exclude_unset=True):
        await repository.update_fields(session, ctx.user_id, values)
    user = await repository.get(session, ctx.user_id)
    if user is None:
        raise NotFound("No such user")
    return user


async def list_users(
    session: AsyncSession,
    *,
    role: UserRole | None,
    status: UserStatus | None,
    search: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[User], str | None]:
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.page(
        session, role=role, status=status, search=search, after=after, limit=limit + 1
    )
    return split_page(rows, limit, lambda u: (u.created_at, u.id))


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repository.get(session, user_id)
    if user is None:
        raise NotFound("No such user")
    return user


async def administer(
    session: AsyncSession,
    ctx: RequestContext,
    user_id: uuid.UUID,
    *,
    status: UserStatus | None,
    role: UserRole | None,
    accepts_leads: bool | None = None,
) -> User:
    """Change a user's status or role. Staff roles are granted and revoked by a super_admin
    only (the database refuses it too); an account that stops being active loses its sessions."""
    target = await get_user(session, user_id)
    if user_id == ctx.user_id:
        raise Conflict("Change your own role or status through another administrator")
    touches_staff = role is not None and (role in STAFF_ROLES or target.role in STAFF_ROLES)
    if (touches_staff or target.role == UserRole.SUPER_ADMIN) and ctx.role != UserRole.SUPER_ADMIN:
        raise Forbidden("Only a super_admin may change administrators or grant staff roles")
    changes: dict[str, Any] = {}
    if status is not None and status != target.status:
        changes["status"] = status
    if role is not None and role != target.role:
        changes["role"] = role
    if accepts_leads is not None and accepts_leads != target.accepts_leads:
        if (role or target.role) not in STAFF_ROLES:
            raise ValidationFailed("Only staff members can receive leads")
        changes["accepts_leads"] = accepts_leads
    if not changes:
        return target
    await repository.update_fields(session, user_id, changes)
    if status in (UserStatus.SUSPENDED, UserStatus.INACTIVE):
        await auth.end_sessions(session, user_id, f"account_{status.value}")
    await audit.record_event(
        session,
        "users.administered",
        user_id,
        {k: getattr(v, "value", v) for k, v in changes.items()},
    )
    return await get_user(session, user_id)


# For other domains: what they may know and change about accounts.


async def find(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The account, if the caller may see it (RLS)."""
    return await repository.get(session, user_id)


async def is_staff_member(session: AsyncSession, user_id: uuid.UUID) -> bool:
    user = await repository.get(session, user_id)
    return user is not None and user.role.is_staff


async def promote_to_client(session: AsyncSession, user: User) -> None:
    """A visitor who books or buys becomes a client; other roles stay as they are."""
    if user.role == UserRole.VISITOR:
        await repository.update_fields(session, user.id, {"role": UserRole.CLIENT})


async def client_for(
    session: AsyncSession,
    *,
    email: str,
    first_name: str,
    last_name: str,
    company: str | None,
    phone: str | None,
) -> uuid.UUID:
    """The account of ``email`` (promoted to client), or a new client account for it."""
    user_id = await repository.id_by_email(session, email)
    if user_id is None:
        return await repository.create_client(
            session,
            email=email,
            first_name=first_name,
            last_name=last_name,
            company=company,
            phone=phone,
        )
    user = await repository.get(session, user_id)
    if user is not None:
        await promote_to_client(session, user)
    return user_id


# -- GDPR -----------------------------------------------------------------------------------


async def export(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """The person's data as one document (format ``dreamer-export/1``, see the README): the
    caller's own, or (staff) any account's they may manage."""
    await get_user(session, user_id)  # 404 when the caller cannot see the account
    return await repository.export(session, user_id)


async def erase_account(
    session: AsyncSession, user_id: uuid.UUID, *, dry_run: bool = False
) -> dict[str, Any]:
    """Staff erase an account they may manage (404 if they cannot see it; 409 for the last
    super_admin)."""
    target = await get_user(session, user_id)
    if target.role == UserRole.SUPER_ADMIN and not await repository.other_super_admin(
        session, user_id
    ):
        raise Conflict("The last super_admin cannot be erased; appoint another one first")
    return await _erase(session, user_id, dry_run)


async def _erase(session: AsyncSession, user_id: uuid.UUID, dry_run: bool) -> dict[str, Any]:
    """Erase the account (``gdpr_erase``); a dry run does it all in a savepoint it rolls back,
    so the figures are exactly what the erasure would touch and nothing changes."""
    savepoint = await session.begin_nested()
    try:
        report = await repository.erase(session, user_id)
    except BaseException:
        await savepoint.rollback()
        raise
    if dry_run:
        await savepoint.rollback()
    else:
        await savepoint.commit()
    return {**report, "dryRun": dry_run}


async def erase_own_account(
    session: AsyncSession, env: auth.AuthEnv, ctx: RequestContext, password: str, dry_run: bool
) -> dict[str, Any]:
    """The caller erases their own account, confirming with their password (``session`` as
    dreamer_auth, which alone reads password hashes)."""
    assert ctx.user_id is not None
    await auth.confirm_own_password(session, env, password)
    return await _erase(session, ctx.user_id, dry_run)
