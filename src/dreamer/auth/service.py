"""Registration, login, token rotation, verification, password reset and change, sessions.

Services never commit. Errors that must keep their side effects (a failed login's audit entry,
the session revoked because a refresh token was reused) carry ``CommitAnyway``.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.auth import repository
from dreamer.auth.passwords import check_new_password
from dreamer.auth.schemas import RegisterIn
from dreamer.auth.tokens import TokenPair, issue, new_refresh_token
from dreamer.core import clock
from dreamer.core.config import Settings
from dreamer.core.errors import (
    BadRequest,
    CommitAnyway,
    Conflict,
    Forbidden,
    InvalidLink,
    NotFound,
    Unauthorized,
)
from dreamer.core.security import Argon2Params, Passwords, token_digest
from dreamer.db import audit
from dreamer.db.session import Database, RequestContext
from dreamer.mail import outbox
from dreamer.models import User, UserStatus

BLOCKED = frozenset({UserStatus.SUSPENDED, UserStatus.INACTIVE})


class LoginFailed(CommitAnyway, Unauthorized):
    slug, title = "invalid-credentials", "Invalid credentials"

    def __init__(self) -> None:
        super().__init__("The e-mail address or password is not correct")


class AccountBlocked(CommitAnyway, Forbidden):
    slug, title = "account-blocked", "Account not active"


class RefreshFailed(CommitAnyway, Unauthorized):
    slug, title = "invalid-refresh-token", "Invalid refresh token"


def passwords_for(settings: Settings) -> Passwords:
    """Password hashing with the configured Argon2id parameters."""
    return Passwords(
        Argon2Params(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
    )


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """The rules a new password must meet (422 otherwise), for every way one is set."""
    check_new_password(password, email=email)


@dataclass(frozen=True)
class AuthEnv:
    """What authentication needs beyond the transaction."""

    settings: Settings
    secret: str
    passwords: Passwords

    async def hash(self, password: str) -> str:
        # Argon2 takes tens of milliseconds: keep the event loop free.
        return await asyncio.to_thread(self.passwords.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        return await asyncio.to_thread(self.passwords.verify, stored, password)


@dataclass(frozen=True)
class AuthResult:
    user: User
    tokens: TokenPair


async def _start_session(
    session: AsyncSession, env: AuthEnv, ctx: RequestContext, user_id: uuid.UUID, role: str
) -> TokenPair:
    refresh, digest = new_refresh_token()
    expires = clock.now() + timedelta(seconds=env.settings.session_lifetime_seconds)
    session_id = await repository.create_session(
        session,
        user_id=user_id,
        token_hash=digest,
        ip=ctx.ip,
        user_agent=ctx.user_agent,
        expires_at=expires,
    )
    # From here on this transaction acts as the new user (RLS lets them read their row).
    await Database.identify(
        session, replace(ctx, user_id=user_id, role=role, session_id=session_id)
    )
    return issue(env.settings, env.secret, user_id, role, session_id, refresh)


async def _load_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repository.get_user(session, user_id)
    if user is None:
        raise NotFound("No such user")
    return user


async def register(
    session: AsyncSession, env: AuthEnv, ctx: RequestContext, data: RegisterIn
) -> AuthResult:
    email = data.email.strip()
    check_new_password(data.password, email=email)
    if await repository.credentials(session, email) is not None:
        raise Conflict("An account with this e-mail address already exists")
    profile = data.model_dump(include={"first_name", "last_name", "company", "phone", "job_title"})
    user_id = await repository.insert_user(
        session, {"email": email, "password_hash": await env.hash(data.password), **profile}
    )
    await outbox.queue(session, "verify_email", user_id)
    tokens = await _start_session(session, env, ctx, user_id, "visitor")
    await audit.record_event(session, "auth.register", user_id)
    return AuthResult(await _load_user(session, user_id), tokens)


async def login(
    session: AsyncSession, env: AuthEnv, ctx: RequestContext, email: str, password: str
) -> AuthResult:
    email = email.strip().lower()
    found = await repository.credentials(session, email)
    # An unknown address costs one hash verification too: same answer, same time.
    valid = await env.verify(found.password_hash if found else None, password)
    if found is None or not valid:
        await audit.record_event(
            session,
            "auth.login_failed",
            found.user_id if found else None,
            {"email": email, "reason": "unknown_email" if found is None else "wrong_password"},
        )
        raise LoginFailed
    if found.status in BLOCKED:
        await audit.record_event(
            session, "auth.login_blocked", found.user_id, {"status": found.status.value}
        )
        raise AccountBlocked(f"This account is {found.status.value}")
    assert found.password_hash is not None
    rehash = None
    if env.passwords.needs_rehash(found.password_hash):
        rehash = await env.hash(password)  # legacy bcrypt (or old parameters) → Argon2id now
    await repository.record_login(session, found.user_id, rehash, clock.now())
    tokens = await _start_session(session, env, ctx, found.user_id, found.role.value)
    await audit.record_event(session, "auth.login", found.user_id, {"rehashed": rehash is not None})
    return AuthResult(await _load_user(session, found.user_id), tokens)


async def refresh(
    session: AsyncSession, env: AuthEnv, ctx: RequestContext, refresh_token: str
) -> TokenPair:
    new_token, new_digest = new_refresh_token()
    result = await repository.rotate(
        session,
        token_digest(refresh_token),
        new_digest,
        env.settings.session_idle_timeout_seconds,
        clock.now(),
    )
    if result.outcome == "reused":
        await audit.record_event(
            session,
            "auth.refresh_token_reused",
            result.user_id,
            {"session_id": str(result.session_id)},
        )
    if result.outcome != "ok":
        raise RefreshFailed(f"The refresh token is {_OUTCOME_TEXT.get(result.outcome, 'invalid')}")
    assert result.user_id and result.role and result.session_id
    return issue(
        env.settings, env.secret, result.user_id, result.role.value, result.session_id, new_token
    )


_OUTCOME_TEXT = {
    "invalid": "invalid",
    "reused": "no longer valid: it was already used, so the session has been ended",
    "revoked": "revoked",
    "expired": "expired",
    "inactive": "no longer valid: the account is not active",
}


async def logout(session: AsyncSession, ctx: RequestContext, *, everywhere: bool) -> int:
    assert ctx.user_id is not None
    count = await repository.revoke_sessions(
        session,
        user_id=ctx.user_id,
        reason="logout_all" if everywhere else "logout",
        now=clock.now(),
        only=None if everywhere else ctx.session_id,
    )
    await audit.record_event(
        session,
        "auth.logout_all" if everywhere else "auth.logout",
        ctx.user_id,
        {"sessions": count},
    )
    return count


async def revoke_session(session: AsyncSession, ctx: RequestContext, session_id: uuid.UUID) -> None:
    assert ctx.user_id is not None
    count = await repository.revoke_sessions(
        session, user_id=ctx.user_id, reason="revoked_by_user", now=clock.now(), only=session_id
    )
    if not count:
        raise NotFound("No such active session")
    await audit.record_event(
        session, "auth.session_revoked", ctx.user_id, {"session_id": str(session_id)}
    )


RESET_MESSAGE = "If an account exists for this address, a reset link is on its way."


async def request_password_reset(session: AsyncSession, email: str) -> None:
    """Queue a reset mail when the account exists; the caller cannot tell either way, not even
    by the time the answer takes (one database round trip in both cases)."""
    await repository.request_password_reset(session, email.strip())


async def confirm_password_reset(
    session: AsyncSession, env: AuthEnv, token: str, password: str
) -> None:
    check_new_password(password)
    user_id = await repository.reset_password(
        session, token_digest(token), await env.hash(password), clock.now()
    )
    if user_id is None:
        raise InvalidLink("This reset link is invalid, used or expired; request a new one")
    await audit.record_event(session, "auth.password_reset", user_id)


async def confirm_own_password(session: AsyncSession, env: AuthEnv, password: str) -> None:
    """403 unless ``password`` is the signed-in caller's (``session`` as dreamer_auth)."""
    if not await env.verify(await repository.own_password_hash(session), password):
        raise Forbidden("The password is not correct")


async def change_password(
    session: AsyncSession, env: AuthEnv, ctx: RequestContext, current: str, new: str
) -> None:
    assert ctx.user_id is not None
    user = await _load_user(session, ctx.user_id)
    if not await env.verify(await repository.own_password_hash(session), current):
        raise Forbidden("The current password is not correct")
    check_new_password(new, email=user.email)
    await repository.set_own_password(session, await env.hash(new))
    await repository.revoke_sessions(
        session,
        user_id=ctx.user_id,
        reason="password_changed",
        now=clock.now(),
        keep=ctx.session_id,
    )
    await outbox.queue(session, "password_changed", user.id)
    await audit.record_event(session, "auth.password_changed", ctx.user_id)


async def verify_email(session: AsyncSession, token: str) -> None:
    user_id = await repository.verify_email(session, token_digest(token), clock.now())
    if user_id is None:
        raise InvalidLink("This verification link is invalid, used or expired")
    await audit.record_event(session, "auth.email_verified", user_id)


async def resend_verification(
    session: AsyncSession, env: AuthEnv, ctx: RequestContext, email: str | None
) -> None:
    if ctx.user_id is not None:
        user = await _load_user(session, ctx.user_id)
        target: tuple[uuid.UUID, str, str | None] | None = (
            None if user.email_verified else (user.id, user.email, user.first_name)
        )
    elif email is not None:
        found = await repository.credentials(session, email)
        target = (
            (found.user_id, email.strip(), None)
            if found and not found.email_verified and found.status not in BLOCKED
            else None
        )
    else:
        raise BadRequest("Give the e-mail address, or sign in")
    if target is not None:
        await outbox.queue(session, "verify_email", target[0])


async def live_sessions(session: AsyncSession, ctx: RequestContext) -> list[dict[str, Any]]:
    assert ctx.user_id is not None
    rows = await repository.live_sessions(session, ctx.user_id, clock.now())
    return [
        {
            **row._asdict(),
            "ip_address": str(row.ip_address) if row.ip_address else None,
            "current": row.id == ctx.session_id,
        }
        for row in rows
    ]


async def end_sessions(session: AsyncSession, user_id: uuid.UUID, reason: str) -> int:
    """Revoke every live session of an account (staff suspending it, say); how many ended."""
    return await repository.revoke_sessions(
        session, user_id=user_id, reason=reason, now=clock.now()
    )
