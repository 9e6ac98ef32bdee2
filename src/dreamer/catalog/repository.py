"""SQL for the service catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, Text, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.core.errors import sqlstate_of
from dreamer.db.reader import PublicReader
from dreamer.models import Service


def _visible(is_active: bool | None) -> Any:
    return Service.is_active.is_(is_active) if is_active is not None else True


async def list_page(
    session: AsyncSession, *, is_active: bool | None, offset: int, limit: int
) -> Sequence[Service]:
    query = (
        select(Service)
        .where(_visible(is_active))
        .order_by(Service.sort_order, Service.name)
        .offset(offset)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def count(session: AsyncSession, *, is_active: bool | None) -> int:
    query = select(func.count()).select_from(Service).where(_visible(is_active))
    return int(await session.scalar(query) or 0)


def _by_slug(active_only: bool) -> Select[Service]:
    slug = bindparam("slug", type_=Text)
    former = bindparam("former", type_=ARRAY(Text))  # [slug]: @> can use the GIN index
    query = (
        select(Service)
        .where(or_(Service.slug == slug, Service.previous_slugs.contains(former)))
        .order_by(case((Service.slug == slug, 0), else_=1))
        .limit(1)
    )
    return query.where(Service.is_active) if active_only else query


# Built once: the public read is the hottest query there is, and building a statement costs
# more than running this one.
_BY_SLUG = {True: _by_slug(True), False: _by_slug(False)}


async def get_by_slug(session: AsyncSession, slug: str, *, active_only: bool) -> Service | None:
    """By current slug, else by a former one (a renamed service keeps resolving)."""
    found = await session.scalars(_BY_SLUG[active_only], {"slug": slug, "former": [slug]})
    return found.first()


# The anonymous reads on raw asyncpg (dreamer.db.reader): the columns of ServiceOut, active only.
_PUBLIC_COLUMNS = (
    "id, name, slug, description, features, pricing, duration_minutes, is_active, sort_order,"
    " created_at, updated_at"
)
_PUBLIC_BY_SLUG = (
    f"select {_PUBLIC_COLUMNS} from services"
    " where (slug = $1 or previous_slugs @> array[$1]::text[]) and is_active"
    " order by (slug = $1) desc limit 1"
)
_PUBLIC_PAGE = (
    f"select {_PUBLIC_COLUMNS}, count(*) over () as total from services where is_active"
    " order by sort_order, name limit $1 offset $2"
)
_PUBLIC_COUNT = "select count(*) as total from services where is_active"


async def public_by_slug(reader: PublicReader, slug: str) -> Mapping[str, Any] | None:
    return await reader.fetchrow(_PUBLIC_BY_SLUG, slug)


async def public_page(
    reader: PublicReader, *, offset: int, limit: int
) -> tuple[Sequence[Mapping[str, Any]], int]:
    """One page of active services and the total, in one statement (two past the end)."""
    rows = await reader.fetch(_PUBLIC_PAGE, limit, offset)
    if rows:
        return rows, int(rows[0]["total"])
    total = await reader.fetchrow(_PUBLIC_COUNT)
    return rows, int(total["total"]) if total else 0


async def get(session: AsyncSession, service_id: uuid.UUID) -> Service | None:
    query = (
        select(Service).where(Service.id == service_id).execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).one_or_none()


async def create(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID:
    service_id = uuid.uuid4()
    await session.execute(insert(Service).values(id=service_id, **values))
    return service_id


async def update_fields(
    session: AsyncSession, service_id: uuid.UUID, values: dict[str, Any]
) -> None:
    await session.execute(update(Service).where(Service.id == service_id).values(**values))


BOOKINGS_FK = "service_bookings_service_id_fkey"


async def remove(session: AsyncSession, service_id: uuid.UUID) -> bool:
    """Delete the service; False when bookings still refer to it (their foreign key refuses,
    whatever rows RLS lets the caller see)."""
    try:
        async with session.begin_nested():
            await session.execute(delete(Service).where(Service.id == service_id))
    except IntegrityError as exc:
        state, constraint = sqlstate_of(exc)  # ON DELETE RESTRICT answers 23001
        if state in ("23001", "23503") and constraint == BOOKINGS_FK:
            return False
        raise
    return True


async def set_order(session: AsyncSession, ids: list[uuid.UUID]) -> int:
    positions = {service_id: index + 1 for index, service_id in enumerate(ids)}
    statement = (
        update(Service)
        .where(Service.id.in_(ids))
        .values(sort_order=case(positions, value=Service.id))
        .returning(Service.id)
    )
    return len((await session.execute(statement)).all())
