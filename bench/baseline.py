"""The baseline of ``make bench``: a bare ASGI app (no framework) on an asyncpg pool, answering
the same reads with the same SQL and the same JSON shape as Dreamer, but with no middleware, no
validation, no RLS context and no transaction. Dreamer is measured as a ratio to it, in the same
run, under the same server and worker count.

Run as ``uvicorn bench.baseline:app --workers 2`` with ``BASELINE_DATABASE_URL`` set (the bench
passes the owner's URL of its throwaway database).
"""

from __future__ import annotations

import os
from typing import Any

import asyncpg
import orjson

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
HEADERS = [(b"content-type", b"application/json")]
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


async def _respond(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": HEADERS})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _pool
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _pool = await asyncpg.create_pool(
                    os.environ["BASELINE_DATABASE_URL"], min_size=2, max_size=10
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if _pool is not None:
                    await _pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    path: str = scope["path"]
    if path == "/healthz":
        await _respond(send, 200, b'{"status":"ok"}')
        return
    assert _pool is not None
    if path == "/api/v1/services":
        async with _pool.acquire() as conn:
            rows = await conn.fetch(PAGE, 20, 0)
            total = await conn.fetchval(COUNT)
        body = {
            "success": True,
            "data": [_service(r) for r in rows],
            "meta": {"page": 1, "limit": 20, "total": total, "totalPages": -(-total // 20)},
        }
        await _respond(send, 200, orjson.dumps(body))
        return
    if path.startswith("/api/v1/services/"):
        async with _pool.acquire() as conn:
            row = await conn.fetchrow(BY_SLUG, path.rpartition("/")[2])
        if row is None:
            await _respond(send, 404, NOT_FOUND)
        else:
            await _respond(send, 200, orjson.dumps({"success": True, "data": _service(row)}))
        return
    await _respond(send, 404, NOT_FOUND)
