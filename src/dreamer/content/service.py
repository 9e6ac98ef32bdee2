"""Business rules of pages, case studies and testimonials: the publishing workflow,
revisions, redirects, search, SEO and view counts.

Every kind shares the workflow: created as a draft; ``publish`` (now, or at ``publishAt``: a
future time schedules), ``unpublish`` (back to draft), ``archive``. What the public sees is a
query condition (``repository.PUBLIC``, and the policies in ``db/sql/content.sql``), so a
scheduled item goes live, and an expiring one goes away, without any job.
"""

from __future__ import annotations

import difflib
import html
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.catalog import service as catalog
from dreamer.content import repository, seo
from dreamer.content.blocks import PageContent
from dreamer.content.repository import CASE_STUDIES, PAGES, TABLES, TESTIMONIALS, Filters, Rows
from dreamer.content.schemas import (
    CaseStudyIn,
    CaseStudyPatch,
    PageIn,
    PagePatch,
    PublishIn,
    TestimonialIn,
    TestimonialPatch,
)
from dreamer.content.seo import Site
from dreamer.core.errors import Conflict, NotFound, ValidationFailed
from dreamer.db.reader import PublicReader
from dreamer.models import ContentKind, ContentStatus

__all__ = ["CASE_STUDIES", "PAGES", "TESTIMONIALS", "Site"]

Table = repository.Table
NAMES = {
    ContentKind.PAGE: "page",
    ContentKind.CASE_STUDY: "case study",
    ContentKind.TESTIMONIAL: "testimonial",
}
# What a save may change, per kind (the input models' fields): also what a restore restores.
EDITABLE = {
    ContentKind.PAGE: set(PageIn.model_fields),
    ContentKind.CASE_STUDY: set(CaseStudyIn.model_fields),
    ContentKind.TESTIMONIAL: set(TestimonialIn.model_fields),
}


def table_of(kind: ContentKind) -> Table:
    return TABLES[kind]


# -- presentation ---------------------------------------------------------------------------


def present(
    site: Site, table: Table, row: Mapping[str, Any], *, staff: bool = False
) -> dict[str, Any]:
    """The row as the API answers it: stored fields, the website path, resolved SEO."""
    item = {k: row[k] for k in row.keys() if k != "total"}  # noqa: SIM118 (asyncpg Record)
    if table.kind is ContentKind.PAGE:
        item["path"] = seo.path_for("page", item["slug"])
        item["seo"] = seo.page_seo(site, item)
    elif table.kind is ContentKind.CASE_STUDY:
        item["path"] = seo.path_for("case_study", item["slug"])
        item["seo"] = seo.case_study_seo(site, item)
    if not staff:
        item.pop("author_id", None)
    return item


def as_row(table: Table, model: Any) -> dict[str, Any]:
    """An ORM object as the mapping the raw reads give (the table's list columns)."""
    names = [c.strip() for c in table.columns.split(",")]
    return {name: getattr(model, name) for name in names}


# -- reads ----------------------------------------------------------------------------------


async def list_items(
    rows: Rows,
    table: Table,
    *,
    public: bool,
    status: ContentStatus | None = None,
    page_type: str | None = None,
    industry: str | None = None,
    technology: str | None = None,
    featured: bool | None = None,
    page: int,
    limit: int,
) -> tuple[Sequence[Mapping[str, Any]], int]:
    """A page of items: public ones for the public (and signed-in non-staff, whom RLS limits
    the same way); staff see every status and may filter by one."""
    filters = Filters()
    if public:
        filters.conditions.append(table.public())
    elif status is not None:
        filters.add("status = ?::content_status", status.value)
    if page_type is not None:
        filters.add("page_type = ?::page_type", page_type)
    if industry is not None:
        filters.add("lower(industry) = lower(?)", industry)
    if technology is not None:
        filters.add(
            "exists (select 1 from jsonb_array_elements_text(technologies) t"
            " where lower(t) = lower(?))",
            technology,
        )
    if featured is not None:
        filters.add("is_featured = ?", featured)
    return await repository.page_of(rows, table, filters, offset=(page - 1) * limit, limit=limit)


class Moved(Exception):
    """The slug asked for is a former one: the item now lives at ``slug``."""

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


async def by_slug(rows: Rows, table: Table, slug: str, *, public: bool) -> Mapping[str, Any]:
    """The item at ``slug``; ``Moved`` when it was renamed; 404 when the caller may not see it
    (a draft is as absent as a slug never used)."""
    found = await repository.by_slug(rows, table, slug, public=public)
    if found is not None:
        return found
    moved = await repository.redirect_target(rows, table, slug, public=public)
    if moved is not None:
        raise Moved(moved)
    raise NotFound(f"No {NAMES[table.kind]} at '{slug}'")


async def testimonials_of(
    rows: Rows, case_study_id: uuid.UUID, *, public: bool
) -> Sequence[Mapping[str, Any]]:
    return await repository.testimonials_of(rows, case_study_id, public=public)


async def by_id(rows: Rows, table: Table, item_id: uuid.UUID) -> Mapping[str, Any]:
    found = await repository.by_id(rows, table, item_id)
    if found is None:
        raise NotFound(f"No such {NAMES[table.kind]}")
    return found


async def view_counts(
    rows: Rows, table: Table, items: Sequence[Mapping[str, Any]]
) -> dict[uuid.UUID, int]:
    if table.kind is ContentKind.TESTIMONIAL or not items:
        return {}
    return await repository.views_of(rows, table.kind, [i["id"] for i in items])


# -- writes ---------------------------------------------------------------------------------


def _values(data: BaseModel, *, partial: bool) -> dict[str, Any]:
    values = data.model_dump(exclude_unset=partial)
    content = getattr(data, "content", None)
    if isinstance(content, PageContent):  # a page's blocks, as stored
        values["content"] = content.stored()
    return values


async def _check_slug(
    session: AsyncSession, table: Table, slug: str | None, item_id: uuid.UUID | None
) -> None:
    if slug is None:
        return
    owner = await repository.slug_owner(session, table, slug)
    if owner is not None and owner != item_id:
        raise Conflict(f"The slug '{slug}' is taken")


async def _check_case_study(session: AsyncSession, values: Mapping[str, Any]) -> None:
    case_study_id = values.get("case_study_id")
    if case_study_id is not None and not await repository.case_study_exists(session, case_study_id):
        raise ValidationFailed("caseStudyId names no case study")


async def _saved(session: AsyncSession, table: Table, item_id: uuid.UUID) -> dict[str, Any]:
    found = await repository.current(session, table, item_id)
    if found is None:
        raise NotFound(f"No such {NAMES[table.kind]}")
    return as_row(table, found)


async def create(
    session: AsyncSession,
    table: Table,
    data: PageIn | CaseStudyIn | TestimonialIn,
    *,
    author_id: uuid.UUID | None,
) -> dict[str, Any]:
    """A new draft, written by ``author_id``."""
    values = _values(data, partial=False)
    await _check_slug(session, table, values.get("slug"), None)
    await _check_case_study(session, values)
    item_id = await repository.create(session, table, {**values, "author_id": author_id})
    return await _saved(session, table, item_id)


async def update(
    session: AsyncSession,
    table: Table,
    item_id: uuid.UUID,
    data: PagePatch | CaseStudyPatch | TestimonialPatch,
) -> dict[str, Any]:
    """Change the fields sent (``null`` clears an optional one). A new slug leaves a redirect
    from the old one (``db/sql/content.sql``)."""
    current = await _saved(session, table, item_id)
    values = _values(data, partial=True)
    for name in ("title", "slug", "content", "client_name", "page_type", "is_featured"):
        if name in values and values[name] is None:
            raise ValidationFailed(f"{name} cannot be cleared")
    if values.get("slug") not in (None, current.get("slug")):
        await _check_slug(session, table, values["slug"], item_id)
    await _check_case_study(session, values)
    _check_window(current.get("published_at"), values.get("expires_at", current["expires_at"]))
    if values:
        await repository.update_fields(session, table, item_id, values)
    return await _saved(session, table, item_id)


def _check_window(published_at: datetime | None, expires_at: datetime | None) -> None:
    if published_at is not None and expires_at is not None and expires_at <= published_at:
        raise ValidationFailed("expiresAt must be after the publication time")


async def publish(
    session: AsyncSession, table: Table, item_id: uuid.UUID, data: PublishIn, *, now: datetime
) -> dict[str, Any]:
    """Published at ``publishAt`` (a future one schedules it) or now."""
    current = await _saved(session, table, item_id)
    published_at = data.publish_at or now
    expires_at = data.expires_at if "expires_at" in data.model_fields_set else current["expires_at"]
    _check_window(published_at, expires_at)
    await repository.update_fields(
        session,
        table,
        item_id,
        {
            "status": ContentStatus.PUBLISHED,
            "published_at": published_at,
            "expires_at": expires_at,
        },
    )
    return await _saved(session, table, item_id)


async def set_status(
    session: AsyncSession, table: Table, item_id: uuid.UUID, status: ContentStatus
) -> dict[str, Any]:
    """Back to draft (unpublish) or archived: not public, kept with its revisions."""
    await _saved(session, table, item_id)
    await repository.update_fields(
        session, table, item_id, {"status": status, "published_at": None}
    )
    return await _saved(session, table, item_id)


async def delete(session: AsyncSession, table: Table, item_id: uuid.UUID) -> None:
    if not await repository.remove(session, table, item_id):
        raise NotFound(f"No such {NAMES[table.kind]}")


# -- revisions ------------------------------------------------------------------------------


async def revisions(rows: Rows, table: Table, item_id: uuid.UUID) -> Sequence[Mapping[str, Any]]:
    await by_id(rows, table, item_id)
    return await repository.revisions(rows, table.kind, item_id)


async def revision(rows: Rows, table: Table, item_id: uuid.UUID, number: int) -> Mapping[str, Any]:
    found = await repository.revision(rows, table.kind, item_id, number)
    if found is None:
        raise NotFound(f"No revision {number} of this {NAMES[table.kind]}")
    return found


def _comparable(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in snapshot.items() if k not in ("id", "author_id")}


async def diff(
    rows: Rows, table: Table, item_id: uuid.UUID, before: int, after: int
) -> dict[str, Any]:
    """What changed from revision ``before`` to ``after``: each field, and the content as a
    unified diff of its JSON."""
    old = _comparable((await revision(rows, table, item_id, before))["snapshot"])
    new = _comparable((await revision(rows, table, item_id, after))["snapshot"])
    changes = [
        {"field": key, "before": old.get(key), "after": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]

    def text_of(snapshot: Mapping[str, Any]) -> list[str]:
        shown = snapshot.get("content", snapshot)
        return json.dumps(shown, indent=2, sort_keys=True, default=str).splitlines()

    lines = difflib.unified_diff(
        text_of(old), text_of(new), f"revision {before}", f"revision {after}", lineterm=""
    )
    return {
        "from_revision": before,
        "to_revision": after,
        "changes": changes,
        "content_diff": list(lines),
    }


async def restore(
    session: AsyncSession, rows: Rows, table: Table, item_id: uuid.UUID, number: int
) -> dict[str, Any]:
    """The editable fields of revision ``number`` saved again (a new revision); the workflow
    state (status, publication) stays as it is."""
    snapshot = (await revision(rows, table, item_id, number))["snapshot"]
    current = await _saved(session, table, item_id)
    values = {k: v for k, v in snapshot.items() if k in EDITABLE[table.kind]}
    # a snapshot is JSON: times and ids come back as strings
    if isinstance(values.get("expires_at"), str):
        values["expires_at"] = datetime.fromisoformat(values["expires_at"])
    if isinstance(values.get("case_study_id"), str):
        values["case_study_id"] = uuid.UUID(values["case_study_id"])
    if values.get("slug") not in (None, current.get("slug")):
        await _check_slug(session, table, values["slug"], item_id)
    await _check_case_study(session, values)
    await repository.update_fields(session, table, item_id, values)
    return await _saved(session, table, item_id)


# -- search ---------------------------------------------------------------------------------

_WORDS = re.compile(r"[^\W_]+")
MAX_TERMS = 8
# Markers ts_headline puts around matches: never in stored text, so after the text is escaped
# they are the only places that become <mark>.
_MARKS = ("\x02", "\x03")


def search_query(q: str, *, match: str = "all") -> str | None:
    """The words of ``q`` as a prefix tsquery (``consult:* & ai:*``; with ``match="any"`` an
    OR, each of at least 3 characters), or None without any. Only letters and digits reach the
    query syntax."""
    shortest = 2 if match == "all" else 3
    words = [w.lower() for w in _WORDS.findall(q) if len(w) >= shortest]
    words = list(dict.fromkeys(words))[: MAX_TERMS if match == "all" else 12]
    joiner = " & " if match == "all" else " | "
    return joiner.join(f"{w}:*" for w in words) if words else None


def _marked(text: str | None) -> str:
    escaped = html.escape(text or "", quote=False)
    return escaped.replace(_MARKS[0], "<mark>").replace(_MARKS[1], "</mark>")


async def search(
    rows: Rows, q: str, *, page: int, limit: int, match: str = "all"
) -> tuple[list[dict[str, Any]], int]:
    """Published pages, case studies, active services and testimonials matching ``q`` (all
    its words, each also as a prefix; English stemming), best first: a title match ranks
    above a match in the body."""
    query = search_query(q, match=match)
    if query is None:
        return [], 0
    found, total = await repository.search(
        rows, query, limit=limit, offset=(page - 1) * limit, marks=_MARKS
    )
    hits = [
        {
            "kind": r["kind"],
            "title": r["title"],
            "slug": r["slug"] if r["kind"] != "testimonial" else None,
            "path": seo.path_for(r["kind"], r["slug"]),
            "rank": round(float(r["rank"]), 6),
            "title_highlight": _marked(r["title_highlight"]),
            "highlight": _marked(r["highlight"]),
        }
        for r in found
    ]
    return hits, total


# -- SEO and sitemap ------------------------------------------------------------------------


async def sitemap(rows: Rows, site: Site) -> bytes:
    return seo.sitemap_xml(site, await repository.sitemap(rows))


def robots(site: Site) -> bytes:
    return seo.robots_txt(site)


async def meta_for_path(reader: PublicReader, site: Site, path: str) -> dict[str, Any]:
    """The SEO of any public path of the website (404 for one that shows nothing)."""
    path = "/" + path.strip().strip("/")
    if path in seo.LISTS:
        return {"path": path, **seo.list_seo(site, path)}
    section, _, rest = path[1:].partition("/")
    if section == "case-studies" and rest:
        row = await by_slug(reader, CASE_STUDIES, rest, public=True)
        return {"path": path, **seo.case_study_seo(site, row)}
    if section == "services" and rest:
        service = await catalog.public_service(reader, rest)
        return {"path": path, **seo.service_seo(site, service)}
    slug = path[1:] or seo.HOME
    page = await by_slug(reader, PAGES, slug, public=True)
    return {"path": path, **seo.page_seo(site, page)}


async def structured_data(reader: PublicReader, site: Site, kind: str) -> list[dict[str, Any]]:
    """JSON-LD by type (the original ``/api/seo/structured-data/:type``): the organisation,
    the website, every active service, or every published case study."""
    if kind == "organization":
        return [seo.organization(site)]
    if kind == "website":
        return [seo.website(site)]
    if kind == "services":
        services, _total = await catalog.public_services(reader, page=1, limit=100)
        return [seo.service_seo(site, s)["json_ld"][1] for s in services]
    if kind == "case-studies":
        studies, _total = await list_items(reader, CASE_STUDIES, public=True, page=1, limit=100)
        return [seo.case_study_seo(site, c)["json_ld"][1] for c in studies]
    raise NotFound(
        f"No structured data of type '{kind}' (one of {', '.join(seo.STRUCTURED_TYPES)})"
    )


async def record_views(session: AsyncSession, counts: Mapping[tuple[str, str], int]) -> int:
    """Add the views a worker counted (``(kind, slug) → n``) to today's rows."""
    added = 0
    for kind in (ContentKind.PAGE, ContentKind.CASE_STUDY):
        mine = [(slug, n) for (k, slug), n in counts.items() if k == kind.value]
        if mine:
            added += await repository.record_views(
                session, kind, [s for s, _ in mine], [n for _, n in mine]
            )
    return added
