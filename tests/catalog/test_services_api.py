"""GET /api/v1/services through router → service → repository under RLS, as a visitor."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from dreamer.core.config import Settings
from dreamer.seed.runner import run_seed


@pytest.fixture
async def seeded(settings: Settings, owner_conn: asyncpg.Connection) -> None:
    assert settings.database_owner_url
    await run_seed(settings, settings.database_owner_url, demo=False, only_if_empty=False)
    await owner_conn.execute(
        "insert into services (name, slug, is_active, sort_order) "
        "values ('Retired offer', 'retired-offer', false, 0)"
    )


async def test_lists_active_services_in_display_order(
    client: httpx.AsyncClient, seeded: None
) -> None:
    response = await client.get("/api/v1/services")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    slugs = [s["slug"] for s in body["data"]]
    assert slugs == [
        "ai-strategy-consultation",
        "custom-ai-development",
        "ai-integration-services",
        "ai-training-workshop",
    ]
    assert body["meta"] == {"page": 1, "limit": 20, "total": 4, "totalPages": 1}
    first = body["data"][0]
    assert first["durationMinutes"] == 60 and first["isActive"] is True
    assert first["pricing"]["type"] == "fixed"
    assert "duration_minutes" not in first


async def test_pagination(client: httpx.AsyncClient, seeded: None) -> None:
    body = (await client.get("/api/v1/services", params={"page": 2, "limit": 3})).json()
    assert [s["slug"] for s in body["data"]] == ["ai-training-workshop"]
    assert body["meta"] == {"page": 2, "limit": 3, "total": 4, "totalPages": 2}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"page": 0}, {"page": "x"}])
async def test_bad_paging_is_a_422_problem(
    client: httpx.AsyncClient, params: dict[str, int | str]
) -> None:
    response = await client.get("/api/v1/services", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]


async def test_get_by_slug(client: httpx.AsyncClient, seeded: None) -> None:
    response = await client.get("/api/v1/services/ai-training-workshop")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["name"] == "AI Training Workshop"
    assert data["pricing"]["maxAttendees"] == 20


@pytest.mark.parametrize("slug", ["no-such-service", "retired-offer", "UPPER", "x" * 150])
async def test_unknown_or_inactive_slug_is_a_404_problem(
    client: httpx.AsyncClient, seeded: None, slug: str
) -> None:
    response = await client.get(f"/api/v1/services/{slug}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 404 and problem["type"] == "/problems/not-found"
    assert problem["instance"] == f"/api/v1/services/{slug}"
    assert "Traceback" not in response.text


async def test_staff_still_see_only_active_services_in_the_public_list(
    client: httpx.AsyncClient, seeded: None
) -> None:
    # The public endpoint filters explicitly; RLS is the backstop, not the filter.
    response = await client.get("/api/v1/services")
    assert "retired-offer" not in response.text
