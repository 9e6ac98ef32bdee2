"""Pages, case studies and testimonials: public reads (cached, with validators), staff editing,
the publishing workflow, revisions, search and SEO.

The public reads resolve the caller themselves (``deps.caller``): they are the site's hottest
routes. Anonymous callers read on the public reader; signed-in ones in a read-only transaction
as themselves, where RLS shows staff the drafts too (and the per-worker cache never answers
them). Item routes of staff take the id (``{id:uuid}``) and public ones the slug, so a page
slug with sections (``blog/launch``) never reaches a staff route.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from dreamer.content import service
from dreamer.content.schemas import (
    CaseStudyIn,
    CaseStudyOut,
    CaseStudyPatch,
    PageIn,
    PageOut,
    PagePatch,
    PublishIn,
    RevisionDetail,
    RevisionDiff,
    RevisionOut,
    SearchHit,
    SeoMetaOut,
    TestimonialIn,
    TestimonialOut,
    TestimonialPatch,
)
from dreamer.content.service import CASE_STUDIES, PAGES, TESTIMONIALS, Moved, Site
from dreamer.core import clock
from dreamer.core.responses import Envelope, PageMeta, ok, with_validators
from dreamer.core.routing import PageSlugConvertor  # noqa: F401 (registers {slug:pageslug})
from dreamer.db.session import RequestContext
from dreamer.deps import BEARER_DOCS, DbSession, Staff, caller, settings_of
from dreamer.models import ContentStatus, PageType

router = APIRouter(tags=["content"])
Table = service.Table

PageNumber = Annotated[int, Query(ge=1, le=10_000)]
MAX_REVISION = 1_000_000_000  # within the int column
RevisionNumber = Annotated[int, Path(ge=1, le=MAX_REVISION)]
Limit = Annotated[int, Query(ge=1, le=100)]
StatusFilter = Annotated[
    ContentStatus | None, Query(description="staff only: draft, published or archived")
]
Filter = Annotated[str | None, Query(min_length=1, max_length=200)]


@asynccontextmanager
async def _reading(request: Request) -> AsyncIterator[tuple[RequestContext, Any, Site]]:
    ctx, database = await caller(request)
    settings = await settings_of(request)
    site = Site.of(settings)
    async with database.rows(ctx) as rows:
        yield ctx, rows, site


def _latest(items: Sequence[Mapping[str, Any]]) -> datetime | None:
    return max((i["updated_at"] for i in items), default=None)


STAFF_FIELDS = {"author_id": True, "view_count": True}
# A case study's testimonials are items too.
PUBLIC_EXCLUDE = {**STAFF_FIELDS, "testimonials": {"__all__": STAFF_FIELDS}}


def _out(model: Any, item: Mapping[str, Any], *, staff: bool = False) -> dict[str, Any]:
    """The wire form; who wrote an item and how often it was read are for staff only."""
    shown = model.model_validate(item)
    dumped: dict[str, Any] = shown.model_dump(
        mode="json", exclude=None if staff else PUBLIC_EXCLUDE
    )
    return dumped


async def _listing(
    request: Request,
    table: Table,
    model: Any,
    *,
    status: ContentStatus | None,
    page: int,
    limit: int,
    **filters: Any,
) -> Response:
    async with _reading(request) as (ctx, rows, site):
        items, total = await service.list_items(
            rows,
            table,
            public=not ctx.is_staff,
            status=status,
            page=page,
            limit=limit,
            **filters,
        )
        views = await service.view_counts(rows, table, items) if ctx.is_staff else {}
    data = []
    for item in items:
        if not ctx.is_staff:
            data.append(_public_out(site, table, model, item))
            continue
        shown = service.present(site, table, item, staff=True)
        if table is not TESTIMONIALS:
            shown["view_count"] = views.get(item["id"], 0)
        data.append(_out(model, shown, staff=True))
    response = ok(data, PageMeta.of(page, limit, total))
    return with_validators(request, response, _latest(items))


class _Rendered:
    """The public wire form of items already rendered by this worker, keyed by (site, model,
    id, updated_at): a row's every change moves its updated_at (a trigger sets it), so a key never
    names two contents. Presenting an item (SEO, JSON-LD, validation) costs more than reading
    it; lists mostly show the same items again. Bounded, least recently used first out."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.items: OrderedDict[tuple[Site, str, Any, Any], dict[str, Any]] = OrderedDict()

    def get(self, key: tuple[Site, str, Any, Any]) -> dict[str, Any] | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: tuple[Site, str, Any, Any], value: dict[str, Any]) -> None:
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)


_RENDERED = _Rendered()


def _public_out(site: Site, table: Table, model: Any, item: Mapping[str, Any]) -> dict[str, Any]:
    key = (site, model.__name__, item["id"], item["updated_at"])
    found = _RENDERED.get(key)
    if found is None:
        found = _out(model, service.present(site, table, item))
        _RENDERED.put(key, found)
    return found


def _moved(request: Request, prefix: str, slug: str) -> Response:
    target = f"{prefix}/{slug}"
    if request.url.query:
        target += f"?{request.url.query}"
    return RedirectResponse(target, status_code=301)


# -- staff editing --------------------------------------------------------------------------


async def _site_of(request: Request) -> Site:
    return Site.of(await settings_of(request))


def _staff_out(model: Any, table: Table, site: Site, row: Mapping[str, Any]) -> dict[str, Any]:
    return _out(model, service.present(site, table, row, staff=True), staff=True)


@router.post("/pages", status_code=201, response_model=Envelope[PageOut])
async def create_page(request: Request, body: PageIn, db: DbSession, ctx: Staff) -> Response:
    """A new page, as a draft (staff). `content` is validated and its rich text sanitised."""
    row = await service.create(db, PAGES, body, author_id=ctx.user_id)
    return ok(_staff_out(PageOut, PAGES, await _site_of(request), row), status=201)


@router.patch("/pages/{item_id:uuid}", response_model=Envelope[PageOut])
async def update_page(
    request: Request, item_id: uuid.UUID, body: PagePatch, db: DbSession, ctx: Staff
) -> Response:
    """Change a page (staff); every save keeps a revision, a new slug a redirect."""
    row = await service.update(db, PAGES, item_id, body)
    return ok(_staff_out(PageOut, PAGES, await _site_of(request), row))


@router.post("/case-studies", status_code=201, response_model=Envelope[CaseStudyOut])
async def create_case_study(
    request: Request, body: CaseStudyIn, db: DbSession, ctx: Staff
) -> Response:
    """A new case study, as a draft (staff)."""
    row = await service.create(db, CASE_STUDIES, body, author_id=ctx.user_id)
    return ok(_staff_out(CaseStudyOut, CASE_STUDIES, await _site_of(request), row), status=201)


@router.patch("/case-studies/{item_id:uuid}", response_model=Envelope[CaseStudyOut])
async def update_case_study(
    request: Request, item_id: uuid.UUID, body: CaseStudyPatch, db: DbSession, ctx: Staff
) -> Response:
    """Change a case study (staff)."""
    row = await service.update(db, CASE_STUDIES, item_id, body)
    return ok(_staff_out(CaseStudyOut, CASE_STUDIES, await _site_of(request), row))


@router.post("/testimonials", status_code=201, response_model=Envelope[TestimonialOut])
async def create_testimonial(
    request: Request, body: TestimonialIn, db: DbSession, ctx: Staff
) -> Response:
    """A new testimonial, as a draft (staff)."""
    row = await service.create(db, TESTIMONIALS, body, author_id=ctx.user_id)
    return ok(_staff_out(TestimonialOut, TESTIMONIALS, await _site_of(request), row), status=201)


@router.patch("/testimonials/{item_id:uuid}", response_model=Envelope[TestimonialOut])
async def update_testimonial(
    request: Request, item_id: uuid.UUID, body: TestimonialPatch, db: DbSession, ctx: Staff
) -> Response:
    """Change a testimonial (staff)."""
    row = await service.update(db, TESTIMONIALS, item_id, body)
    return ok(_staff_out(TestimonialOut, TESTIMONIALS, await _site_of(request), row))


def _workflow(prefix: str, table: Table, model: Any, name: str) -> None:
    """The routes every kind shares: publish, unpublish, archive, delete, revisions."""
    envelope = Envelope[model]

    async def publish(
        request: Request,
        item_id: uuid.UUID,
        db: DbSession,
        ctx: Staff,
        body: PublishIn | None = None,
    ) -> Response:
        row = await service.publish(db, table, item_id, body or PublishIn(), now=clock.now())
        return ok(_staff_out(model, table, await _site_of(request), row))

    async def unpublish(
        request: Request, item_id: uuid.UUID, db: DbSession, ctx: Staff
    ) -> Response:
        row = await service.set_status(db, table, item_id, ContentStatus.DRAFT)
        return ok(_staff_out(model, table, await _site_of(request), row))

    async def archive(request: Request, item_id: uuid.UUID, db: DbSession, ctx: Staff) -> Response:
        row = await service.set_status(db, table, item_id, ContentStatus.ARCHIVED)
        return ok(_staff_out(model, table, await _site_of(request), row))

    async def delete(item_id: uuid.UUID, db: DbSession, ctx: Staff) -> Response:
        await service.delete(db, table, item_id)
        return ok({"message": f"The {name} was deleted"})

    async def revisions(request: Request, item_id: uuid.UUID, ctx: Staff) -> Response:
        async with _reading(request) as (_ctx, rows, _site):
            found = await service.revisions(rows, table, item_id)
        return ok([RevisionOut.model_validate(dict(r)).model_dump(mode="json") for r in found])

    async def revision(
        request: Request, item_id: uuid.UUID, number: RevisionNumber, ctx: Staff
    ) -> Response:
        async with _reading(request) as (_ctx, rows, _site):
            found = await service.revision(rows, table, item_id, number)
        return ok(RevisionDetail.model_validate(dict(found)).model_dump(mode="json"))

    async def diff(
        request: Request,
        item_id: uuid.UUID,
        ctx: Staff,
        before: Annotated[int, Query(alias="from", ge=1, le=MAX_REVISION)],
        after: Annotated[int, Query(alias="to", ge=1, le=MAX_REVISION)],
    ) -> Response:
        async with _reading(request) as (_ctx, rows, _site):
            found = await service.diff(rows, table, item_id, before, after)
        return ok(RevisionDiff.model_validate(found).model_dump(mode="json"))

    async def restore(
        request: Request, item_id: uuid.UUID, number: RevisionNumber, db: DbSession, ctx: Staff
    ) -> Response:
        async with _reading(request) as (_ctx, rows, site):
            row = await service.restore(db, rows, table, item_id, number)
        return ok(_staff_out(model, table, site, row))

    item = f"{prefix}/{{item_id:uuid}}"
    router.add_api_route(
        f"{item}/publish",
        publish,
        methods=["POST"],
        response_model=envelope,
        summary=f"Publish a {name}",
        description="Staff: public from `publishAt` (a future time schedules it; absent, now) "
        "until `expiresAt` (absent: no end; omitted: unchanged).",
    )
    router.add_api_route(
        f"{item}/unpublish",
        unpublish,
        methods=["POST"],
        response_model=envelope,
        summary=f"Unpublish a {name}",
        description="Staff: back to draft; no longer public.",
    )
    router.add_api_route(
        f"{item}/archive",
        archive,
        methods=["POST"],
        response_model=envelope,
        summary=f"Archive a {name}",
        description="Staff: archived, no longer public, kept with its revisions.",
    )
    router.add_api_route(
        item,
        delete,
        methods=["DELETE"],
        response_model=Envelope[dict[str, str]],
        summary=f"Delete a {name}",
        description="Staff: deleted with its revisions, redirects and view counts.",
    )
    router.add_api_route(
        f"{item}/revisions",
        revisions,
        methods=["GET"],
        response_model=Envelope[list[RevisionOut]],
        summary=f"Revisions of a {name}",
        description="Staff: every save, newest first.",
    )
    router.add_api_route(
        f"{item}/revisions/diff",
        diff,
        methods=["GET"],
        response_model=Envelope[RevisionDiff],
        summary=f"Compare two revisions of a {name}",
        description="Staff: the fields that differ, and the content as a unified diff.",
    )
    router.add_api_route(
        f"{item}/revisions/{{number:int}}",
        revision,
        methods=["GET"],
        response_model=Envelope[RevisionDetail],
        summary=f"One revision of a {name}",
        description="Staff: the full snapshot saved.",
    )
    router.add_api_route(
        f"{item}/revisions/{{number:int}}/restore",
        restore,
        methods=["POST"],
        response_model=envelope,
        summary=f"Restore a revision of a {name}",
        description="Staff: its fields saved again as a new revision; the publication state "
        "stays as it is.",
    )


_workflow("/pages", PAGES, PageOut, "page")
_workflow("/case-studies", CASE_STUDIES, CaseStudyOut, "case study")
_workflow("/testimonials", TESTIMONIALS, TestimonialOut, "testimonial")


# -- public reads ----------------------------------------------------------------------------


@router.get("/pages", response_model=Envelope[list[PageOut]], dependencies=[BEARER_DOCS])
async def list_pages(
    request: Request,
    page: PageNumber = 1,
    limit: Limit = 20,
    type: Annotated[PageType | None, Query(description="landing, service, blog, …")] = None,
    status: StatusFilter = None,
) -> Response:
    """Published pages, newest first (`?type=blog` for the blog). Staff see drafts, scheduled
    and archived pages too, and may filter with `status`."""
    return await _listing(
        request,
        PAGES,
        PageOut,
        status=status,
        page=page,
        limit=limit,
        page_type=type.value if type else None,
    )


@router.get(
    "/pages/{slug:pageslug}",
    response_model=Envelope[PageOut],
    responses={301: {"description": "A former slug: the page's current address"}, 404: {}},
    dependencies=[BEARER_DOCS],
)
async def get_page(request: Request, slug: Annotated[str, Path(max_length=300)]) -> Response:
    """A published page by slug (`blog/launch` style slugs work), with its SEO: meta fields,
    canonical URL and JSON-LD. A former slug answers 301 to the current one."""
    return await _detail(request, PAGES, PageOut, slug, "/api/v1/pages")


@router.get(
    "/case-studies", response_model=Envelope[list[CaseStudyOut]], dependencies=[BEARER_DOCS]
)
async def list_case_studies(
    request: Request,
    page: PageNumber = 1,
    limit: Limit = 20,
    industry: Filter = None,
    technology: Filter = None,
    status: StatusFilter = None,
) -> Response:
    """Published case studies in display order (`sortOrder`, then newest), filtered by
    industry or technology (case-insensitive)."""
    return await _listing(
        request,
        CASE_STUDIES,
        CaseStudyOut,
        status=status,
        page=page,
        limit=limit,
        industry=industry,
        technology=technology,
    )


@router.get(
    "/case-studies/{slug}",
    response_model=Envelope[CaseStudyOut],
    responses={301: {"description": "A former slug: the case study's current address"}, 404: {}},
    dependencies=[BEARER_DOCS],
)
async def get_case_study(request: Request, slug: Annotated[str, Path(max_length=200)]) -> Response:
    """A published case study by slug, with its published testimonials and SEO."""
    return await _detail(request, CASE_STUDIES, CaseStudyOut, slug, "/api/v1/case-studies")


async def _detail(request: Request, table: Table, model: Any, slug: str, prefix: str) -> Response:
    async with _reading(request) as (ctx, rows, site):
        try:
            item = await service.by_slug(rows, table, slug, public=not ctx.is_staff)
        except Moved as moved:
            return _moved(request, prefix, moved.slug)
        modified = item["updated_at"]
        quotes: Sequence[Mapping[str, Any]] = []
        if table is CASE_STUDIES:
            quotes = await service.testimonials_of(rows, item["id"], public=not ctx.is_staff)
            modified = max([modified, *(q["updated_at"] for q in quotes)])
        views = await service.view_counts(rows, table, [item]) if ctx.is_staff else {}
    if ctx.is_staff:
        shown = service.present(site, table, item, staff=True)
        shown["view_count"] = views.get(item["id"], 0)
        if table is CASE_STUDIES:
            shown["testimonials"] = [
                service.present(site, TESTIMONIALS, q, staff=True) for q in quotes
            ]
        data = _out(model, shown, staff=True)
    else:
        data = dict(_public_out(site, table, model, item))
        if table is CASE_STUDIES:
            data["testimonials"] = [
                _public_out(site, TESTIMONIALS, TestimonialOut, q) for q in quotes
            ]
    return with_validators(request, ok(data), modified)


@router.get(
    "/testimonials", response_model=Envelope[list[TestimonialOut]], dependencies=[BEARER_DOCS]
)
async def list_testimonials(
    request: Request,
    page: PageNumber = 1,
    limit: Limit = 20,
    featured: Annotated[bool | None, Query(description="only featured (or not)")] = None,
    status: StatusFilter = None,
) -> Response:
    """Published testimonials in display order; `featured=true` for the highlighted ones."""
    return await _listing(
        request,
        TESTIMONIALS,
        TestimonialOut,
        status=status,
        page=page,
        limit=limit,
        featured=featured,
    )


@router.get("/search", response_model=Envelope[list[SearchHit]], dependencies=[BEARER_DOCS])
async def search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    page: PageNumber = 1,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    """Full-text search of the published pages, case studies, services and testimonials:
    every word must match, also as a prefix (`consult` finds "consulting"), with English
    stemming; best first (a title match ranks above a body match), with highlights (HTML:
    escaped text, matches in `<mark>`)."""
    async with _reading(request) as (_ctx, rows, _site):
        hits, total = await service.search(rows, q, page=page, limit=limit)
    data = [SearchHit.model_validate(h).model_dump(mode="json") for h in hits]
    return with_validators(request, ok(data, PageMeta.of(page, limit, total)), None)


@router.get(
    "/seo/meta/{path:path}",
    response_model=Envelope[SeoMetaOut],
    responses={404: {"description": "Nothing public at this path"}},
    dependencies=[BEARER_DOCS],
)
async def seo_meta_by_path(
    request: Request, path: Annotated[str, Path(max_length=400)]
) -> Response:
    """The same as `/seo/meta?path=/…`, with the path in the URL (the original
    `/api/seo/meta/*`)."""
    return await seo_meta(request, f"/{path}")


@router.get(
    "/seo/structured-data/{kind}",
    response_model=Envelope[list[dict[str, Any]]],
    responses={404: {"description": "Not one of the types"}},
    dependencies=[BEARER_DOCS],
)
async def structured_data(request: Request, kind: Annotated[str, Path(max_length=40)]) -> Response:
    """schema.org JSON-LD by type (the original `/api/seo/structured-data/:type`):
    `organization`, `website`, `services` (each active service) or `case-studies` (each
    published one)."""
    _ctx, database = await caller(request)
    site = await _site_of(request)
    found = await service.structured_data(database.public, site, kind)
    return with_validators(request, ok(found), None)


@router.get(
    "/seo/meta",
    response_model=Envelope[SeoMetaOut],
    responses={404: {"description": "Nothing public at this path"}},
)
async def seo_meta(
    request: Request,
    path: Annotated[str, Query(min_length=1, max_length=400, description="a website path")],
) -> Response:
    """The `<head>` of any public path of the website: title, description, keywords, image,
    canonical URL and schema.org JSON-LD (`Organization`, `Service`, `Article`, …)."""
    _ctx, database = await caller(request)  # the credentials are checked all the same
    site = await _site_of(request)
    meta = await service.meta_for_path(database.public, site, path)
    return with_validators(
        request, ok(SeoMetaOut.model_validate(meta).model_dump(mode="json")), None
    )
