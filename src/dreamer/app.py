"""The FastAPI application: middleware, routers, error handlers, lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.convertors import Convertor, register_url_convertor
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from dreamer import __version__
from dreamer.analytics.admin_router import router as admin_analytics_router
from dreamer.analytics.router import router as analytics_router
from dreamer.audit.admin_router import router as admin_audit_router
from dreamer.auth.pages import router as auth_pages
from dreamer.auth.router import router as auth_router
from dreamer.auth.service import AuthEnv, passwords_for
from dreamer.bookings import router as bookings_routes
from dreamer.bookings.admin_router import router as admin_availability_router
from dreamer.bookings.router import router as bookings_router
from dreamer.catalog import router as catalog_routes
from dreamer.catalog.router import router as catalog_router
from dreamer.chat.admin_router import router as admin_chat_router
from dreamer.chat.router import router as chat_router
from dreamer.chat.service import provider_for
from dreamer.content import pages as content_pages
from dreamer.content import router as content_routes
from dreamer.content import service as content_service
from dreamer.content.router import router as content_router
from dreamer.core.config import Settings, get_settings
from dreamer.core.docs import install_docs
from dreamer.core.errors import ServiceUnavailable, install_error_handlers
from dreamer.core.http import RequestInfoMiddleware, Tally, ViewCounter, parse_networks
from dreamer.core.logging import configure_logging
from dreamer.core.openapi import install_openapi
from dreamer.core.responses import JSONResponse, json_bytes
from dreamer.core.routing import PlainRoute
from dreamer.db.cache import PublicCacheMiddleware, PublicReadCache
from dreamer.db.migrate import head_revision
from dreamer.db.ratelimit import RateLimiter
from dreamer.db.session import Database
from dreamer.demos.router import router as demos_router
from dreamer.demos.service import voices_for
from dreamer.leads.router import contact_router
from dreamer.leads.router import router as leads_router
from dreamer.newsletter.pages import router as newsletter_pages
from dreamer.newsletter.router import router as newsletter_router
from dreamer.users import router as users_routes
from dreamer.users.admin_router import router as admin_users_router
from dreamer.users.router import router as users_router

log = logging.getLogger("dreamer")
API_PREFIX = "/api/v1"

DESCRIPTION = """
The backend of Dreamer AI Solutions' website.

Success bodies are `{"success": true, "data": …, "meta": {…}}` with camelCase field names
(snake_case is accepted on input); errors are RFC 7807 `application/problem+json`.
Requests to `/api/<path>` are redirected (308) to `/api/v1/<path>`.
"""


# The anonymous reads served from the per-worker cache, with the topic whose changes drop them.
CACHED_READS = [
    (rf"{API_PREFIX}/services", "services"),
    (rf"{API_PREFIX}/services/[^/]+", "services"),
    (rf"{API_PREFIX}/(pages|case-studies|testimonials)", "content"),
    (rf"{API_PREFIX}/pages/.+", "content"),
    (rf"{API_PREFIX}/case-studies/[^/]+", "content"),
    (rf"{API_PREFIX}/(search|seo/meta)", "content"),
    (rf"{API_PREFIX}/seo/(meta|structured-data)/.+", "content"),
    (r"/sitemap\.xml", "content"),
]
# The public item reads whose 200 answers count as views (content_views).
COUNTED_VIEWS = [
    (rf"{API_PREFIX}/pages/(?P<slug>[a-z0-9/-]+)", "page"),
    (rf"{API_PREFIX}/case-studies/(?P<slug>[a-z0-9-]+)", "case_study"),
]


# FastAPI tries routes in order, one by one, and matches each level of included routers twice:
# the domain routers are included directly (one level), the public hot paths first.
API_ROUTERS = (
    catalog_router,
    content_router,
    contact_router,
    auth_router,
    users_router,
    admin_users_router,
    bookings_router,
    admin_availability_router,
    leads_router,
    newsletter_router,
    admin_audit_router,
    chat_router,
    admin_chat_router,
    demos_router,
    analytics_router,
    admin_analytics_router,
)


class LegacyPathConvertor(Convertor[str]):
    """Any path under /api/ that is not already under /api/v1/ (those 404 or 405 normally)."""

    regex = r"(?!v1(?:/|$)).+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("legacy", LegacyPathConvertor())


class Health(BaseModel):
    status: str
    version: str


class Ready(BaseModel):
    status: str
    schema_: str = Field(alias="schema")


def _ops_router() -> APIRouter:
    ops = APIRouter(tags=["operations"])

    # Documented here; served by the plain routes of PROBES, which create_app puts first.
    @ops.get("/healthz", response_model=Health)
    async def healthz(request: Request) -> Response:
        """The process is alive (no dependencies checked)."""
        return await _healthz(request)

    @ops.get("/readyz", response_model=Ready)
    async def readyz(request: Request) -> Response:
        """The database is reachable and migrated to this build's schema version."""
        return await _readyz(request)

    @ops.api_route(
        "/api/{path:legacy}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"],
        include_in_schema=False,
    )
    async def legacy_redirect(request: Request, path: str) -> Response:
        target = f"{API_PREFIX}/{path}"
        if request.url.query:
            target += f"?{request.url.query}"
        return RedirectResponse(target, status_code=308)

    return ops


_HEALTHY = json_bytes({"status": "ok", "version": __version__})  # the same every time


async def _healthz(request: Request) -> Response:
    return Response(_HEALTHY, media_type="application/json")


async def _readyz(request: Request) -> Response:
    db: Database = request.app.state.db
    try:
        async with db.engine.connect() as conn:
            version = await conn.scalar(text("select schema_version()"))
    except Exception as exc:
        log.warning("readiness check failed: %s", type(exc).__name__)
        raise ServiceUnavailable("The database is not reachable") from None
    expected = head_revision()
    if version != expected:
        raise ServiceUnavailable(f"Schema at {version}, this build needs {expected}")
    return JSONResponse({"status": "ready", "schema": version})


# Probes are called every few seconds by orchestrators and load balancers and need no request
# parsing or injection: plain Starlette routes, tried before any other (the FastAPI routes of
# the same paths only document them).
PROBES = [
    Route("/healthz", _healthz, methods=["GET", "HEAD"]),
    Route("/readyz", _readyz, methods=["GET", "HEAD"]),
]


async def _service_by_slug(request: Request) -> Response:
    return await catalog_routes.get_service(request, request.path_params["slug"])


async def _services(request: Request) -> Response:
    return await catalog_routes.list_services(request)


async def _own_bookings(request: Request) -> Response:
    return await bookings_routes.list_bookings(request)


async def _page(request: Request) -> Response:
    return await content_routes.get_page(request, request.path_params["slug"])


async def _case_study(request: Request) -> Response:
    return await content_routes.get_case_study(request, request.path_params["slug"])


# The hottest reads' plain requests (dreamer.core.routing), served before FastAPI's routes by
# the same endpoint functions; requests with parameters go on to the documented routes.
PLAIN_READS = [
    PlainRoute(f"{API_PREFIX}/services", _services),
    PlainRoute(f"{API_PREFIX}/services/{{slug}}", _service_by_slug),
    PlainRoute(f"{API_PREFIX}/users/profile", users_routes.get_profile),
    PlainRoute(f"{API_PREFIX}/bookings", _own_bookings),
    PlainRoute(f"{API_PREFIX}/pages", content_routes.list_pages),
    PlainRoute(f"{API_PREFIX}/pages/{{slug:pageslug}}", _page, max_param_length=300),
    PlainRoute(f"{API_PREFIX}/case-studies", content_routes.list_case_studies),
    PlainRoute(f"{API_PREFIX}/case-studies/{{slug}}", _case_study),
    PlainRoute(f"{API_PREFIX}/testimonials", content_routes.list_testimonials),
]

PARTITION_CHECK_SECONDS = 6 * 3600


async def _partition_maintenance(db: Database) -> None:
    """Keep next months' log partitions made while the service runs for months on end.

    Every worker process does this; the function serialises callers with an advisory lock and
    does nothing when the partitions exist. (Rows outside made months land in the DEFAULT
    partition and are moved at the next call, so a missed run never loses an insert.)
    """
    while True:
        try:
            async with db.engine.begin() as conn:
                for table in ("audit_logs", "analytics_events"):
                    await conn.execute(
                        text("select ensure_monthly_partitions(cast(:t as regclass), 3)"),
                        {"t": table},
                    )
        except Exception as exc:  # never let maintenance take the service down
            log.warning("partition maintenance failed: %s", type(exc).__name__)
        await asyncio.sleep(PARTITION_CHECK_SECONDS)


VIEW_FLUSH_SECONDS = 5.0


async def _flush_views(db: Database, tally: Tally) -> None:
    """Every few seconds, the views this worker counted go to the database in one statement
    per kind (``content_views_add``): a page read never writes, and no row is hot."""
    while True:
        await asyncio.sleep(VIEW_FLUSH_SECONDS)
        await _write_views(db, tally)


async def _write_views(db: Database, tally: Tally) -> None:
    counts = tally.take()
    if not counts:
        return
    try:
        async with db.sessions() as session, session.begin():
            await content_service.record_views(session, counts)
    except Exception as exc:  # counts are best effort: never let them take the service down
        log.warning("view counts not recorded: %s", type(exc).__name__)


class DreamerAPI(FastAPI):
    """FastAPI with its middleware stack trimmed to what this service uses.

    FastAPI wraps every request in its OpenTelemetry exception hook and its own body-size limit
    (``core.http`` enforces ours, with problem documents); telemetry is switched off below, so
    both layers only cost time. What remains: the 500 handler, our middleware, the exception
    handlers, and the exit stack FastAPI's request handling requires.
    """

    def build_middleware_stack(self) -> ASGIApp:
        error_handler = None
        handlers: dict[Any, Any] = {}
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
            else:
                handlers[key] = value
        app: ASGIApp = ExceptionMiddleware(
            AsyncExitStackMiddleware(self.router), handlers=handlers, debug=self.debug
        )
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return ServerErrorMiddleware(app, handler=error_handler, debug=self.debug)


NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


async def close_pools(app: FastAPI) -> None:
    """Close the database pools ``create_app`` opened (the lifespan's end; tests that drive
    the app without its lifespan call it themselves)."""
    await app.state.db.dispose()
    await app.state.auth_db.dispose()
    await app.state.limiter.dispose()
    if app.state.llm is not None:
        await app.state.llm.close()
    if app.state.voices is not None:
        await app.state.voices.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    if settings.database_url is None or settings.database_auth_url is None:
        raise RuntimeError(
            "create_app needs DATABASE_URL and DATABASE_AUTH_URL; `dreamer serve` sets them up"
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        maintenance = asyncio.create_task(_partition_maintenance(app.state.db))
        views = asyncio.create_task(_flush_views(app.state.db, app.state.views))
        if cache is not None:
            await cache.start()
        yield
        if cache is not None:
            await cache.stop()
        maintenance.cancel()
        views.cancel()
        await _write_views(app.state.db, app.state.views)
        await close_pools(app)

    app = DreamerAPI(
        telemetry=NO_TELEMETRY,  # type: ignore[arg-type]
        title="Dreamer API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JSONResponse,
        docs_url=None,  # served from the package by install_docs: no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.secret_key = settings.resolved_secret_key()
    app.state.db = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    # The credential path's own role and pool (see dreamer.db.bootstrap).
    app.state.auth_db = Database(
        settings.database_auth_url,
        pool_size=settings.db_auth_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    app.state.limiter = RateLimiter(
        settings.database_url,
        pool_size=max(2, settings.db_pool_size // 2),
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    app.state.llm = provider_for(
        settings.llm_base_url,
        settings.llm_model,
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout_seconds,
        retries=settings.llm_max_retries,
    )
    app.state.voices = voices_for(
        settings.elevenlabs_api_key, settings.elevenlabs_base_url, settings.elevenlabs_model
    )
    app.state.auth = AuthEnv(
        settings=settings, secret=app.state.secret_key, passwords=passwords_for(settings)
    )
    cache = PublicReadCache(settings.database_url, CACHED_READS) if settings.public_cache else None
    app.state.public_cache = cache
    install_error_handlers(app)
    install_openapi(app)
    install_docs(app)
    app.router.routes[:0] = [*PROBES, *PLAIN_READS]
    app.include_router(_ops_router())  # its legacy redirect never matches /api/v1/…
    for domain in API_ROUTERS:
        app.include_router(domain, prefix=API_PREFIX)
    app.include_router(auth_pages)  # the pages mailed links open
    app.include_router(newsletter_pages)
    app.include_router(content_pages.router)  # /sitemap.xml, /robots.txt
    if cache is not None:  # innermost: CORS and the request id still apply to cached answers
        app.add_middleware(PublicCacheMiddleware, cache=cache)
    app.state.views = Tally()
    app.add_middleware(
        ViewCounter, tally=app.state.views, patterns=COUNTED_VIEWS, prefix=API_PREFIX
    )
    app.add_middleware(
        RequestInfoMiddleware,
        trusted_proxies=parse_networks(settings.trusted_proxies),
        max_body_bytes=settings.max_body_bytes,
        max_import_bytes=settings.max_import_bytes,
        cookie_secure=settings.cookie_secure,
        cors={
            "allow_origins": settings.cors_origins,
            "allow_credentials": True,
            "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
            "allow_headers": [
                "Authorization",
                "Content-Type",
                "X-Visitor-Id",
                "X-Request-Id",
                "Idempotency-Key",
                "X-CSRF-Token",
            ],
            "expose_headers": ["X-Request-Id", "Retry-After"],
        },
    )
    return app
