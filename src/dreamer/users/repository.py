"""SQL for profiles and the staff user list."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.db.context import RequestContext, context_args
from dreamer.db.reader import PublicReader
from dreamer.models import User, UserRole, UserStatus


async def get(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id, populate_existing=True)


# One's own profile on raw asyncpg (dreamer.db.reader), the columns of UserOut: own_profile()
# (db/sql/users.sql) sets the context, checks the session and reads, in one statement.
_OWN_PROFILE = "select * from own_profile($1::uuid, $2::uuid, $3, $4, $5, $6, $7)"


async def own_profile(reader: PublicReader, ctx: RequestContext) -> Mapping[str, Any] | None:
    """The caller's own row, or None when their session has ended or the account changed."""
    return await reader.fetchrow(_OWN_PROFILE, *context_args(ctx))


async def update_fields(session: AsyncSession, user_id: uuid.UUID, values: dict[str, Any]) -> bool:
    result = await session.execute(
        update(User).where(User.id == user_id).values(**values).returning(User.id)
    )
    return result.first() is not None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def page(
    session: AsyncSession,
    *,
    role: UserRole | None,
    status: UserStatus | None,
    search: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[User]:
    """Newest first; keyset pagination on (created_at, id) so pages stay stable and fast."""
    query = select(User).order_by(User.created_at.desc(), User.id.desc()).limit(limit)
    if role is not None:
        query = query.where(User.role == role)
    if status is not None:
        query = query.where(User.status == status)
    if search:
        pattern = f"%{_escape_like(search)}%"
        query = query.where(
            or_(
                User.email.ilike(pattern, escape="\\"),
                User.first_name.ilike(pattern, escape="\\"),
                User.last_name.ilike(pattern, escape="\\"),
                (User.first_name + " " + User.last_name).ilike(pattern, escape="\\"),
            )
        )
    if after is not None:
        query = query.where(tuple_(User.created_at, User.id) < tuple_(*after))
    return (await session.scalars(query)).all()


async def id_by_email(session: AsyncSession, email: str) -> uuid.UUID | None:
    query = select(User.id).where(func.lower(User.email) == email.strip().lower())
    return await session.scalar(query)


async def create_client(
    session: AsyncSession,
    *,
    email: str,
    first_name: str,
    last_name: str,
    company: str | None,
    phone: str | None,
) -> uuid.UUID:
    """A client account made by staff (no password yet: the person sets one by reset)."""
    user_id = uuid.uuid4()
    await session.execute(
        insert(User).values(
            id=user_id,
            email=email,
            first_name=first_name,
            last_name=last_name,
            company=company,
            phone=phone,
            role=UserRole.CLIENT,
            status=UserStatus.ACTIVE,
        )
    )
    return user_id


async def export(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """Every personal datum about the account (``gdpr_export``, db/sql/gdpr.sql)."""
    document = await session.scalar(select(func.gdpr_export(user_id)))
    assert isinstance(document, dict)
    return document


async def erase(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """Erase the account (``gdpr_erase``): the pseudonym and the rows touched per table."""
    report = await session.scalar(select(func.gdpr_erase(user_id)))
    assert isinstance(report, dict)
    return report


async def other_super_admin(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """Whether an active super_admin other than ``user_id`` exists."""
    found = await session.scalar(
        select(User.id)
        .where(
            User.role == UserRole.SUPER_ADMIN,
            User.status == UserStatus.ACTIVE,
            User.id != user_id,
        )
        .limit(1)
    )
    return found is not None
