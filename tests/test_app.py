"""Cross-cutting HTTP behaviour: envelope, problems, redirects, health, visitor identity."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi.routing import APIRoute

from dreamer.app import close_pools, create_app
from dreamer.core.config import Settings
from dreamer.core.http import VISITOR_COOKIE
from dreamer.db.migrate import head_revision
from tests.harness import ClonedDatabase, make_settings


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "schema": head_revision()}


async def test_readyz_reports_an_unreachable_database(client: httpx.AsyncClient) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    from dreamer.db.session import Database

    await close_pools(app)
    app.state.db = Database("postgresql://dreamer_app:wrong@127.0.0.1:1/nowhere")
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_legacy_paths_redirect_permanently(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/api/services?page=2&limit=1")
    assert response.status_code == 308
    assert response.headers["location"] == "/api/v1/services?page=2&limit=1"


async def test_unknown_v1_route_is_a_404_problem_not_a_redirect(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/services")
    assert response.status_code == 405
    assert response.json()["status"] == 405


async def test_anonymous_visitor_gets_a_random_httponly_cookie(client: httpx.AsyncClient) -> None:
    # a health probe needs no identity, so it mints none (and stays cacheable)
    assert "set-cookie" not in (await client.get("/healthz")).headers
    response = await client.get("/api/v1/services")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{VISITOR_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    value = cookie.split(";")[0].split("=")[1]
    assert len(value) == 32 and int(value, 16) >= 0
    # a returning visitor keeps their id
    client.cookies.clear()
    again = await client.get("/api/v1/services", headers={"Cookie": f"{VISITOR_COOKIE}={value}"})
    assert "set-cookie" not in again.headers


async def test_visitor_header_replaces_the_cookie(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/services", headers={"X-Visitor-Id": "3F2504E0-4F89-11D3-9A0C-0305E82C3301"}
    )
    assert "set-cookie" not in response.headers


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-Id": "abc-123-def-456"})
    assert given.headers["x-request-id"] == "abc-123-def-456"
    forged = await client.get("/healthz", headers={"X-Request-Id": "bad id\n"})
    assert forged.headers["x-request-id"] != "bad id"


async def test_oversized_body_is_a_413_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/services", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_oversized_chunked_body_is_a_413_problem_too(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 50_000  # 2 MB in all, with no Content-Length

    response = await client.post(
        "/api/v1/contact", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_small_chunked_body_still_works(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "chunk@example.com",'
        yield b' "name": "Chunky", "message": "hello"}'

    response = await client.post(
        "/api/v1/contact", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text


async def test_invalid_bearer_token_is_a_401_problem(client: httpx.AsyncClient) -> None:
    for header in ("Bearer not-a-jwt", "Basic dXNlcjpwdw==", "Bearer "):
        response = await client.get("/api/v1/services", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["www-authenticate"] == "Bearer"


async def test_cors_preflight_for_the_website_origin(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/v1/services",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    evil = await client.options(
        "/api/v1/services",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in evil.headers


async def test_cors_and_the_edge_headers_with_and_without_an_origin(
    client: httpx.AsyncClient,
) -> None:
    """A request naming the site's Origin gets CORS headers; one naming none gets `Vary:
    Origin` only (so a shared cache keeps the two apart); both get the request id and the
    security headers, each once."""
    for path in ("/healthz", "/api/v1/services", "/api/v1/nowhere"):
        plain = await client.get(path)
        assert plain.headers.get_list("vary")[-1:] == ["Origin"], path
        assert "access-control-allow-origin" not in plain.headers, path
        site = await client.get(path, headers={"Origin": "http://localhost:3000"})
        assert site.headers["access-control-allow-origin"] == "http://localhost:3000", path
        assert site.headers["access-control-allow-credentials"] == "true", path
        assert "Origin" in site.headers["vary"], path
        assert "X-Request-Id" in site.headers["access-control-expose-headers"], path
        for response in (plain, site):
            for name in ("x-request-id", "x-content-type-options", "x-frame-options"):
                assert len(response.headers.get_list(name)) == 1, (path, name)
        evil = await client.get(path, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in evil.headers, path
        assert evil.status_code == plain.status_code, path


async def test_openapi_docs_are_served_from_the_package(client: httpx.AsyncClient) -> None:
    """/docs needs no network: every script, style and icon it loads is ours (the browser
    test renders it with every other host unreachable)."""
    docs = await client.get("/docs")
    assert docs.status_code == 200
    loaded = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert loaded and all(url.startswith("/docs/assets/") for url in loaded), loaded
    assert "https://" not in docs.text and "http://" not in docs.text
    media = {".png": "image/png", ".css": "text/css", ".js": "text/javascript"}
    for url in loaded:
        asset = await client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 500
        kind = "." + url.split("?")[0].rpartition(".")[2]
        assert asset.headers["content-type"].startswith(media[kind]), url
    assert (await client.get("/docs/oauth2-redirect")).status_code == 200
    assert (await client.get("/redoc")).status_code == 404  # it would need a CDN
    schema = (await client.get("/openapi.json")).json()
    assert "/api/v1/services" in schema["paths"]


async def test_running_service_keeps_partitions_ahead(
    settings: Settings, owner_conn: asyncpg.Connection
) -> None:
    from asgi_lifespan import LifespanManager

    from dreamer.app import create_app

    newest = await owner_conn.fetchval(
        "select max(inhrelid::regclass::text) from pg_inherits "
        "where inhparent = 'audit_logs'::regclass"
        " and inhrelid::regclass::text <> 'audit_logs_default'"
    )
    await owner_conn.execute(f"drop table {newest}")
    app = create_app(settings)
    async with LifespanManager(app):
        for _ in range(100):
            if await owner_conn.fetchval("select to_regclass($1)", newest):
                break
            await asyncio.sleep(0.05)
    assert await owner_conn.fetchval("select to_regclass($1)", newest) is not None


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)  # an included router
        if inner is not None:
            yield from _api_routes(inner.routes)


def test_every_dependency_is_async(tmp_path: Path) -> None:
    """FastAPI runs a plain `def` dependency in a worker thread: a hop per request that costs
    more than the dependency itself. Every one of ours must be `async def`."""
    app = create_app(make_settings(ClonedDatabase("x", *["postgresql://x@/x"] * 4), tmp_path))
    sync: set[str] = set()
    seen = 0

    def walk(dependant: Any) -> None:
        nonlocal seen
        for dependency in dependant.dependencies:
            call = dependency.call
            seen += 1
            is_async = inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)
            if not is_async and not inspect.iscoroutinefunction(type(call).__call__):
                sync.add(getattr(call, "__qualname__", repr(call)))
            walk(dependency)

    routes = list(_api_routes(app.routes))
    assert len(routes) > 50
    for route in routes:
        walk(route.dependant)
        assert inspect.iscoroutinefunction(route.endpoint), route.path
    assert seen > 100 and sync == set()
