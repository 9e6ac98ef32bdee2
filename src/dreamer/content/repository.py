"""SQL for pages, case studies and testimonials.

Reads are raw, parameterised asyncpg statements (``Rows``: the anonymous public reader, or a
signed-in caller's read-only transaction from ``Database.rows``): Row Level Security decides
what a caller sees (staff: drafts too), and public reads also state the public window
themselves so that the indexes serve them. Writes go through the caller's ORM session.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.models import CaseStudy, ContentKind, ContentPage, Testimonial
from dreamer.models.base import Base


class Rows(Protocol):
    async def fetch(self, query: str, *args: Any) -> Sequence[Mapping[str, Any]]: ...

    async def fetchrow(self, query: str, *args: Any) -> Mapping[str, Any] | None: ...


# The public window (db/sql/content.sql states the same in the policies).
PUBLIC = (
    "{t}status = 'published' and {t}published_at <= now()"
    " and ({t}expires_at is null or {t}expires_at > now())"
)


@dataclass(frozen=True)
class Table:
    kind: ContentKind
    name: str
    model: type[Base]
    columns: str
    order: str  # of lists

    def public(self, alias: str = "") -> str:
        return PUBLIC.format(t=f"{alias}." if alias else "")


PAGES = Table(
    ContentKind.PAGE,
    "content_pages",
    ContentPage,
    "id, title, slug, page_type, content, meta_title, meta_description, meta_keywords, og_image,"
    " canonical_url, status, published_at, expires_at, author_id, created_at, updated_at",
    "published_at desc, id desc",
)
CASE_STUDIES = Table(
    ContentKind.CASE_STUDY,
    "case_studies",
    CaseStudy,
    "id, title, slug, client_name, industry, challenge, solution, results, technologies,"
    " metrics, featured_image, images, sort_order, meta_title, meta_description,"
    " meta_keywords, status, published_at, expires_at, author_id, created_at, updated_at",
    "sort_order, published_at desc, id",
)
TESTIMONIALS = Table(
    ContentKind.TESTIMONIAL,
    "testimonials",
    Testimonial,
    "id, client_name, client_title, client_company, client_image, content, rating,"
    " case_study_id, is_featured, sort_order, status, published_at, expires_at, author_id,"
    " created_at, updated_at",
    "sort_order, published_at desc, id",
)
TABLES = {t.kind: t for t in (PAGES, CASE_STUDIES, TESTIMONIALS)}


class Filters:
    """A WHERE clause built from optional conditions, each with its own ``$n``."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.args: list[Any] = []

    def add(self, condition: str, *values: Any) -> None:
        for value in values:
            self.args.append(value)
            condition = condition.replace("?", f"${len(self.args)}", 1)
        self.conditions.append(condition)

    def where(self) -> str:
        return " where " + " and ".join(self.conditions) if self.conditions else ""

    def next(self) -> str:
        return f"${len(self.args) + 1}"


async def page_of(
    rows: Rows, table: Table, filters: Filters, *, offset: int, limit: int
) -> tuple[Sequence[Mapping[str, Any]], int]:
    """One page of ``table`` in its list order, and the total, in one statement."""
    n = len(filters.args)
    query = (
        f"select {table.columns}, count(*) over () as total from {table.name}{filters.where()}"
        f" order by {table.order} limit ${n + 1} offset ${n + 2}"
    )
    found = await rows.fetch(query, *filters.args, limit, offset)
    if found:
        return found, int(found[0]["total"])
    counted = await rows.fetchrow(
        f"select count(*) as total from {table.name}{filters.where()}", *filters.args
    )
    return found, int(counted["total"]) if counted else 0


async def by_slug(rows: Rows, table: Table, slug: str, *, public: bool) -> Mapping[str, Any] | None:
    window = f" and {table.public()}" if public else ""
    return await rows.fetchrow(
        f"select {table.columns} from {table.name} where slug = $1{window}", slug
    )


async def redirect_target(rows: Rows, table: Table, slug: str, *, public: bool) -> str | None:
    """The current slug of the item ``slug`` used to name, if the caller may see it."""
    window = f" and {table.public('c')}" if public else ""
    found = await rows.fetchrow(
        f"select c.slug from content_redirects r join {table.name} c on c.id = r.entity_id"
        f" where r.kind = $1 and r.old_slug = $2{window}",
        table.kind.value,
        slug,
    )
    return None if found is None else str(found["slug"])


async def by_id(rows: Rows, table: Table, item_id: uuid.UUID) -> Mapping[str, Any] | None:
    return await rows.fetchrow(f"select {table.columns} from {table.name} where id = $1", item_id)


async def testimonials_of(
    rows: Rows, case_study_id: uuid.UUID, *, public: bool
) -> Sequence[Mapping[str, Any]]:
    window = f" and {TESTIMONIALS.public()}" if public else ""
    return await rows.fetch(
        f"select {TESTIMONIALS.columns} from testimonials where case_study_id = $1{window}"
        f" order by {TESTIMONIALS.order}",
        case_study_id,
    )


async def views_of(rows: Rows, kind: ContentKind, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Total views per item (staff: RLS gives others nothing)."""
    found = await rows.fetch(
        "select entity_id, sum(views) as views from content_views"
        " where kind = $1 and entity_id = any($2::uuid[]) group by entity_id",
        kind.value,
        list(ids),
    )
    return {r["entity_id"]: int(r["views"]) for r in found}


# -- revisions ----------------------------------------------------------------------------

_REVISION = "revision, author_id, created_at"


async def revisions(
    rows: Rows, kind: ContentKind, item_id: uuid.UUID
) -> Sequence[Mapping[str, Any]]:
    return await rows.fetch(
        f"select {_REVISION} from content_revisions where kind = $1 and entity_id = $2"
        " order by revision desc",
        kind.value,
        item_id,
    )


async def revision(
    rows: Rows, kind: ContentKind, item_id: uuid.UUID, number: int
) -> Mapping[str, Any] | None:
    return await rows.fetchrow(
        f"select {_REVISION}, snapshot from content_revisions"
        " where kind = $1 and entity_id = $2 and revision = $3",
        kind.value,
        item_id,
        number,
    )


# -- writes (the caller's ORM session) ------------------------------------------------------


async def create(session: AsyncSession, table: Table, values: dict[str, Any]) -> uuid.UUID:
    item_id = uuid.uuid4()
    await session.execute(insert(table.model).values(id=item_id, **values))
    return item_id


async def update_fields(
    session: AsyncSession, table: Table, item_id: uuid.UUID, values: dict[str, Any]
) -> bool:
    model: Any = table.model
    statement = update(model).where(model.id == item_id).values(**values).returning(model.id)
    return (await session.execute(statement)).first() is not None


async def remove(session: AsyncSession, table: Table, item_id: uuid.UUID) -> bool:
    model: Any = table.model
    statement = delete(model).where(model.id == item_id).returning(model.id)
    return (await session.execute(statement)).first() is not None


async def current(session: AsyncSession, table: Table, item_id: uuid.UUID) -> Any:
    """The row as the caller sees it now, locked against a concurrent save."""
    model: Any = table.model
    query = (
        select(model)
        .where(model.id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).one_or_none()


async def slug_owner(session: AsyncSession, table: Table, slug: str) -> uuid.UUID | None:
    """Who holds ``slug`` now (staff, the only writers, see every row)."""
    model: Any = table.model
    found: uuid.UUID | None = await session.scalar(select(model.id).where(model.slug == slug))
    return found


async def case_study_exists(session: AsyncSession, case_study_id: uuid.UUID) -> bool:
    query = select(func.count()).select_from(CaseStudy).where(CaseStudy.id == case_study_id)
    return bool(await session.scalar(query))


async def record_views(
    session: AsyncSession, kind: ContentKind, slugs: list[str], counts: list[int]
) -> int:
    added = await session.scalar(
        text("select content_views_add(cast(:kind as content_kind), :slugs, :counts)"),
        {"kind": kind.value, "slugs": slugs, "counts": counts},
    )
    return int(added or 0)


# -- search ---------------------------------------------------------------------------------

# site_search() (db/sql/content.sql) ranks, pages and highlights.
SEARCH = "select * from site_search($1, $2, $3, $4, $5)"


async def search(
    rows: Rows, query: str, *, limit: int, offset: int, marks: tuple[str, str]
) -> tuple[Sequence[Mapping[str, Any]], int]:
    found = await rows.fetch(SEARCH, query, limit, offset, *marks)
    return found, int(found[0]["total"]) if found else 0


# -- sitemap --------------------------------------------------------------------------------

SITEMAP = f"""
select 'page' as kind, slug, page_type::text as subtype, updated_at from content_pages
    where {PAGES.public()}
union all
select 'case_study', slug, null, updated_at from case_studies where {CASE_STUDIES.public()}
union all
select 'service', slug, null, updated_at from services where is_active
order by 1, 2
limit 50000
"""


async def sitemap(rows: Rows) -> Sequence[Mapping[str, Any]]:
    return await rows.fetch(SITEMAP)
