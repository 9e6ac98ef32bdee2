"""SQL of authentication. The API touches secret columns only through SECURITY DEFINER
functions; ``store_link_token`` is the worker's (it runs as the owner)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dreamer.core.security import new_token, token_digest
from dreamer.models import User, UserRole, UserSession, UserStatus


@dataclass(frozen=True)
class Credentials:
    user_id: uuid.UUID
    password_hash: str | None
    role: UserRole
    status: UserStatus
    email_verified: bool


@dataclass(frozen=True)
class Rotation:
    outcome: str
    session_id: uuid.UUID | None
    user_id: uuid.UUID | None
    role: UserRole | None


async def credentials(session: AsyncSession, email: str) -> Credentials | None:
    row = (
        await session.execute(text("select * from auth_credentials(:email)"), {"email": email})
    ).one_or_none()
    if row is None:
        return None
    return Credentials(
        row.user_id,
        row.password_hash,
        UserRole(row.role),
        UserStatus(row.status),
        row.email_verified,
    )


async def request_password_reset(session: AsyncSession, email: str) -> None:
    """Queue a reset mail if ``email`` has an active account; the same one statement either way."""
    await session.execute(text("select auth_request_password_reset(:email)"), {"email": email})


async def insert_user(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID:
    """Insert without RETURNING: an anonymous registrant may create but not yet read the row."""
    user_id = uuid.uuid4()
    await session.execute(insert(User).values(id=user_id, **values))
    return user_id


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def create_session(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    token_hash: str,
    ip: str | None,
    user_agent: str | None,
    expires_at: datetime,
) -> uuid.UUID:
    created = await session.scalar(
        text("select auth_create_session(:u, :t, cast(:ip as inet), :ua, :exp)"),
        {"u": user_id, "t": token_hash, "ip": ip, "ua": user_agent, "exp": expires_at},
    )
    assert created is not None
    return uuid.UUID(str(created))


async def rotate(
    session: AsyncSession, old_hash: str, new_hash: str, idle_seconds: int, now: datetime
) -> Rotation:
    row = (
        await session.execute(
            text("select * from auth_rotate_session(:old, :new, :idle, :now)"),
            {"old": old_hash, "new": new_hash, "idle": idle_seconds, "now": now},
        )
    ).one()
    return Rotation(
        row.outcome, row.session_id, row.user_id, UserRole(row.role) if row.role else None
    )


async def record_login(
    session: AsyncSession, user_id: uuid.UUID, rehash: str | None, now: datetime
) -> None:
    await session.execute(
        text("select auth_record_login(:u, :h, :now)"), {"u": user_id, "h": rehash, "now": now}
    )


async def own_password_hash(session: AsyncSession) -> str | None:
    value = await session.scalar(text("select auth_own_password_hash()"))
    return str(value) if value is not None else None


async def set_own_password(session: AsyncSession, password_hash: str) -> bool:
    return bool(
        await session.scalar(text("select auth_set_own_password(:h)"), {"h": password_hash})
    )


async def verify_email(session: AsyncSession, token_hash: str, now: datetime) -> uuid.UUID | None:
    value = await session.scalar(
        text("select auth_verify_email(:t, :now)"), {"t": token_hash, "now": now}
    )
    return uuid.UUID(str(value)) if value is not None else None


async def reset_password(
    session: AsyncSession, token_hash: str, password_hash: str, now: datetime
) -> uuid.UUID | None:
    value = await session.scalar(
        text("select auth_reset_password(:t, :h, :now)"),
        {"t": token_hash, "h": password_hash, "now": now},
    )
    return uuid.UUID(str(value)) if value is not None else None


def _live(now: datetime) -> Any:
    return (UserSession.revoked_at.is_(None)) & (UserSession.expires_at > now)


async def revoke_sessions(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    reason: str,
    now: datetime,
    only: uuid.UUID | None = None,
    keep: uuid.UUID | None = None,
) -> int:
    """Revoke live sessions of ``user_id`` (RLS: one's own, or staff)."""
    statement = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    if only is not None:
        statement = statement.where(UserSession.id == only)
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    result = await session.execute(statement.returning(UserSession.id))
    return len(result.all())


async def live_sessions(
    session: AsyncSession, user_id: uuid.UUID, now: datetime
) -> Sequence[Row[Any]]:
    query = (
        select(
            UserSession.id,
            UserSession.created_at,
            UserSession.last_used_at,
            UserSession.expires_at,
            UserSession.ip_address,
            UserSession.user_agent,
        )
        .where(UserSession.user_id == user_id, _live(now))
        .order_by(UserSession.last_used_at.desc())
    )
    rows: Sequence[Row[Any]] = (await session.execute(query)).all()  # type: ignore[assignment]
    return rows


async def store_link_token(
    session: AsyncSession,
    user_id: uuid.UUID,
    column: InstrumentedAttribute[str | None],
    values: dict[str, Any],
    *,
    only_if: ColumnElement[bool] | None = None,
) -> str | None:
    """Mint a token for a mailed link, keep only its digest in ``column`` (with ``values``);
    None when the account is gone or ``only_if`` no longer holds (the worker, as the owner)."""
    token = new_token(32)
    statement = (
        update(User)
        .where(User.id == user_id)
        .values({column.key: token_digest(token), **values})
        .returning(User.id)
    )
    if only_if is not None:
        statement = statement.where(only_if)
    updated = (await session.execute(statement)).first()
    return token if updated else None
