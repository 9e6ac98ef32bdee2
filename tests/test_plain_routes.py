"""The hottest reads' plain requests skip FastAPI's machinery (dreamer.core.routing); every
other request of those paths still meets FastAPI's validation, and both answer alike."""

from __future__ import annotations

import re

import asyncpg
import httpx
from fastapi.routing import APIRoute

from dreamer.app import PLAIN_READS, create_app
from dreamer.core.config import Settings
from dreamer.core.routing import PlainRoute
from tests.factories import make_account

SLUG = "/api/v1/services/ai-strategy-consultation"


def test_each_plain_route_is_a_documented_get_tried_before_fastapi(settings: Settings) -> None:
    app = create_app(settings)
    paths = app.openapi()["paths"]
    routes = app.router.routes
    first_fastapi = next(i for i, r in enumerate(routes) if isinstance(r, APIRoute))
    for plain in PLAIN_READS:
        documented = re.sub(r"\{(\w+):\w+\}", r"{\1}", plain.path)  # {slug:pageslug} → {slug}
        assert "get" in paths[documented], plain.path  # its FastAPI twin documents it
        assert isinstance(plain, PlainRoute) and routes.index(plain) < first_fastapi


async def test_parameters_go_through_fastapi_validation(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    plain = await client.get("/api/v1/services")
    with_page = await client.get("/api/v1/services", params={"page": 1})
    assert plain.status_code == with_page.status_code == 200
    assert plain.json() == with_page.json()
    bad = await client.get("/api/v1/services", params={"limit": 0})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    too_long = await client.get("/api/v1/services/" + "x" * 201)
    assert too_long.status_code == 422
    missing = await client.get("/api/v1/services/no-such-service")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    assert (await client.head("/api/v1/services")).status_code == 405  # as the GET route says

    anonymous = await client.get("/api/v1/users/profile")
    assert anonymous.status_code == 401 and anonymous.json()["type"].endswith("unauthorized")
    account = await make_account(client, owner_conn, "plain@example.com")
    mine = await client.get("/api/v1/users/profile", headers=account.auth)
    assert mine.status_code == 200 and mine.json()["data"]["email"] == "plain@example.com"
    bookings = await client.get("/api/v1/bookings", headers=account.auth)
    filtered = await client.get("/api/v1/bookings", params={"limit": 5}, headers=account.auth)
    assert bookings.status_code == filtered.status_code == 200
    assert (
        await client.get("/api/v1/bookings", params={"limit": 500}, headers=account.auth)
    ).status_code == 422
