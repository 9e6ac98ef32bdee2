"""The baseline of ``make bench``: bare Starlette (its router and nothing else: no middleware)
on an asyncpg pool, answering the same reads with the same SQL and the same JSON shape as
Dreamer, but with no validation, no RLS context and no transaction. Dreamer is measured as a
ratio to it, in the same run, under the same server and worker count.

The signed-in reads (own profile, own bookings) verify the same bearer token (PyJWT, HS256,
``BASELINE_SECRET``) and run the same statement on the user id it names, as the owner: no
session check, no RLS.

Run as ``uvicorn bench.baseline:app --workers 2`` with ``BASELINE_DATABASE_URL`` set (the bench
passes the owner's URL of its throwaway database).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import jwt
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
PROFILE = (
    "select id, email, first_name, last_name, phone, company, job_title, role, status,"
    " email_verified, accepts_leads, last_login, preferences, created_at, updated_at"
    " from users where id = $1"
)
BOOKINGS = (
    "select id, user_id, service_id, consultation_type, scheduled_at, duration_minutes,"
    " time_zone, status, meeting_link, notes, cancellation_reason, cancelled_at, completed_at,"
    " reminder_sent, created_at, updated_at from service_bookings where user_id = $1"
    " order by scheduled_at, id limit $2"
)
# The content reads: the same columns and public window as dreamer.content.repository.
PAGE_BY_SLUG = (
    "select id, title, slug, page_type, content, meta_title, meta_description, meta_keywords,"
    " og_image, canonical_url, status, published_at, expires_at, created_at, updated_at"
    " from content_pages where slug = $1 and status = 'published' and published_at <= now()"
    " and (expires_at is null or expires_at > now())"
)
CASE_STUDY_PAGE = (
    "select id, title, slug, client_name, industry, challenge, solution, results, technologies,"
    " metrics, featured_image, images, sort_order, meta_title, meta_description, meta_keywords,"
    " status, published_at, expires_at, created_at, updated_at, count(*) over () as total"
    " from case_studies where status = 'published' and published_at <= now()"
    " and (expires_at is null or expires_at > now())"
    " order by sort_order, published_at desc, id limit $1 offset $2"
)
UNAUTHORIZED = orjson.dumps({"type": "/problems/unauthorized", "status": 401})
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


def _caller(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return None
    try:
        claims = jwt.decode(
            header[7:],
            os.environ["BASELINE_SECRET"],
            algorithms=["HS256"],
            audience="dreamer-api",
            issuer="dreamer",
        )
    except jwt.PyJWTError:
        return None
    return str(claims["sub"])


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


async def profile(request: Request) -> Response:
    assert _pool is not None
    user_id = _caller(request)
    if user_id is None:
        return Response(UNAUTHORIZED, status_code=401, media_type="application/problem+json")
    async with _pool.acquire() as conn:
        row = await conn.fetchrow(PROFILE, user_id)
    assert row is not None
    data = {
        "id": str(row["id"]),
        "email": row["email"],
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "phone": row["phone"],
        "company": row["company"],
        "jobTitle": row["job_title"],
        "role": row["role"],
        "status": row["status"],
        "emailVerified": row["email_verified"],
        "acceptsLeads": row["accepts_leads"],
        "lastLogin": _iso(row["last_login"]),
        "preferences": orjson.loads(row["preferences"]),
        "createdAt": _iso(row["created_at"]),
        "updatedAt": _iso(row["updated_at"]),
    }
    return Response(orjson.dumps({"success": True, "data": data}), media_type="application/json")


async def bookings(request: Request) -> Response:
    assert _pool is not None
    user_id = _caller(request)
    if user_id is None:
        return Response(UNAUTHORIZED, status_code=401, media_type="application/problem+json")
    async with _pool.acquire() as conn:
        rows = await conn.fetch(BOOKINGS, user_id, 21)
    data = [
        {
            "id": str(r["id"]),
            "userId": str(r["user_id"]),
            "serviceId": str(r["service_id"]),
            "consultationType": r["consultation_type"],
            "scheduledAt": _iso(r["scheduled_at"]),
            "endsAt": _iso(r["scheduled_at"] + timedelta(minutes=r["duration_minutes"])),
            "durationMinutes": r["duration_minutes"],
            "timeZone": r["time_zone"],
            "status": r["status"],
            "meetingLink": r["meeting_link"],
            "notes": r["notes"],
            "cancellationReason": r["cancellation_reason"],
            "cancelledAt": _iso(r["cancelled_at"]),
            "completedAt": _iso(r["completed_at"]),
            "reminderSent": r["reminder_sent"],
            "createdAt": _iso(r["created_at"]),
            "updatedAt": _iso(r["updated_at"]),
        }
        for r in rows[:20]
    ]
    body = {"success": True, "data": data, "meta": {"limit": 20, "nextCursor": None}}
    return Response(orjson.dumps(body), media_type="application/json")


def _plain_row(row: asyncpg.Record) -> dict[str, Any]:
    """Every column as JSON: uuids and times as strings, JSON columns decoded."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "total":
            continue
        if key in ("content", "technologies", "metrics", "images") and isinstance(value, str):
            value = orjson.loads(value)
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[key] = value
    return out


async def page(request: Request) -> Response:
    assert _pool is not None
    async with _pool.acquire() as conn:
        row = await conn.fetchrow(PAGE_BY_SLUG, request.path_params["slug"])
    if row is None:
        return Response(NOT_FOUND, status_code=404, media_type="application/problem+json")
    body = orjson.dumps({"success": True, "data": _plain_row(row)})
    return Response(body, media_type="application/json")


async def case_studies(request: Request) -> Response:
    assert _pool is not None
    async with _pool.acquire() as conn:
        rows = await conn.fetch(CASE_STUDY_PAGE, 20, 0)
    total = rows[0]["total"] if rows else 0
    body = {
        "success": True,
        "data": [_plain_row(r) for r in rows],
        "meta": {"page": 1, "limit": 20, "total": total, "totalPages": -(-total // 20)},
    }
    return Response(orjson.dumps(body), media_type="application/json")


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
        Route("/api/v1/users/profile", profile),
        Route("/api/v1/bookings", bookings),
        Route("/api/v1/pages/{slug:path}", page),
        Route("/api/v1/case-studies", case_studies),
    ],
    lifespan=lifespan,
)
