"""What crawlers read at the root: ``/sitemap.xml`` and ``/robots.txt``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dreamer.content import service
from dreamer.content.service import Site
from dreamer.core.responses import with_validators
from dreamer.deps import caller, settings_of

router = APIRouter(tags=["content"])


async def _site(request: Request) -> Site:
    return Site.of(await settings_of(request))


@router.get(
    "/sitemap.xml",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}},
)
async def sitemap(request: Request) -> Response:
    """The website's sitemap (sitemaps.org 0.9): the public pages, case studies and active
    services with their last change, and the list pages. Always the public view."""
    _ctx, database = await caller(request)
    body = await service.sitemap(database.public, await _site(request))
    return with_validators(request, Response(body, media_type="application/xml"), None)


@router.get(
    "/robots.txt",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def robots(request: Request) -> Response:
    """Crawlers may read the website's content; the API and the mailed-link pages are not
    for them. Names the sitemap."""
    body = service.robots(await _site(request))
    return Response(body, media_type="text/plain; charset=utf-8")
