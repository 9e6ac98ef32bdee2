"""The baseline of ``make bench``: bare Starlette (its router and nothing else: no middleware)
on an asyncpg pool, answering the same reads with the same SQL and the same JSON shape as
Dreamer, but with no validation, no RLS context and no transaction. Dreamer is measured as a
ratio to it, in the same run, under the same server and worker count.

Run as ``uvicorn bench.baseline:app --workers 2`` with ``BASELINE_DATABASE_URL`` set (the bench
passes the owner's URL of its throwaway database).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SERVICE_COLUMNS = (
    "id, name, slug, description, features, pricing, duration_minutes, is_active, sort_order,"
    " created_at, updated_at"
)
BY_SLUG = (
    f"select {SERVICE_COLUMNS} from services where (slug = $1 or previous_slugs @> array[$1])"
    " and is_active order by (slug = $1) desc limit 1"
)
PAGE = (
    f"select {SERVICE_COLUMNS} from services where is_active order by sort_order, name"
    " limit $1 offset $2"
)
COUNT = "select count(*) from services where is_active"
NOT_FOUND = orjson.dumps({"type": "/problems/not-found", "status": 404})

_pool: asyncpg.Pool | None = None


def _service(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "slug": row["slug"],
        "description": row["description"],
        "features": orjson.loads(row["features"]),
        "pricing": orjson.loads(row["pricing"]),
        "durationMinutes": row["duration_minutes"],
        "isActive": row["is_active"],
        "sortOrder": row["sort_order"],
        "createdAt": row["created_at"].isoformat(),
        "updatedAt": row["updated_at"].isoformat(),
    }


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


async def services(request: Request) -> Response:
    assert _pool is not None
    async with _pool.acquire() as conn:
        rows = await conn.fetch(PAGE, 20, 0)
        total = await conn.fetchval(COUNT)
    body = {
        "success": True,
        "data": [_service(r) for r in rows],
        "meta": {"page": 1, "limit": 20, "total": total, "totalPages": -(-total // 20)},
    }
    return Response(orjson.dumps(body), media_type="application/json")


async def service(request: Request) -> Response:
    assert _pool is not None
    async with _pool.acquire() as conn:
        row = await conn.fetchrow(BY_SLUG, request.path_params["slug"])
    if row is None:
        return Response(NOT_FOUND, status_code=404, media_type="application/problem+json")
    body = orjson.dumps({"success": True, "data": _service(row)})
    return Response(body, media_type="application/json")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global _pool
    _pool = await asyncpg.create_pool(os.environ["BASELINE_DATABASE_URL"], min_size=2, max_size=10)
    yield
    await _pool.close()


app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route("/api/v1/services", services),
        Route("/api/v1/services/{slug}", service),
    ],
    lifespan=lifespan,
)
