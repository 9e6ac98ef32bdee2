"""Inputs the fuzzer (schemathesis) once turned into 500s: each must be a clean 4xx now."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.factories import make_account


@pytest.fixture
async def staff_auth(client: httpx.AsyncClient, owner_conn: asyncpg.Connection) -> dict[str, str]:
    return (await make_account(client, owner_conn, "fuzz@example.com", role="admin")).auth


async def test_nul_bytes_are_a_422(client: httpx.AsyncClient, staff_auth: dict[str, str]) -> None:
    response = await client.post(
        "/api/v1/leads/scoring-rules",
        headers=staff_auth,
        json={"name": "bad\u0000name", "kind": "field_present", "field": "phone", "points": 1},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    contact = await client.post(
        "/api/v1/contact", json={"email": "nul@example.com", "message": "a\u0000b"}
    )
    assert contact.status_code == 422


@pytest.mark.parametrize("path", ["/api/v1/leads", "/api/v1/leads/export.csv"])
async def test_numbers_beyond_int32_are_a_422(
    client: httpx.AsyncClient, staff_auth: dict[str, str], path: str
) -> None:
    response = await client.get(path, params={"minScore": 2**40}, headers=staff_auth)
    assert response.status_code == 422


async def test_unbounded_body_numbers_are_refused(
    client: httpx.AsyncClient, staff_auth: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/leads/scoring-rules",
        headers=staff_auth,
        json={
            "name": "n",
            "kind": "field_present",
            "field": "phone",
            "points": 1,
            "sortOrder": 2**40,
        },
    )
    assert response.status_code == 422


async def test_huge_numbers_in_free_json_round_trip(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    account = await make_account(client, owner_conn, "big@example.com")
    response = await client.put(
        "/api/v1/users/profile", headers=account.auth, json={"preferences": {"n": 10**30}}
    )
    assert response.status_code == 200
    assert response.json()["data"]["preferences"] == {"n": 10**30}


@pytest.mark.parametrize(
    "query",
    [
        "from=9999-12-30T00:00:00Z&to=9999-12-31T23:59:59Z",
        "from=0001-01-01T00:00:00%2B14:00",
        "from=1969-12-31T23:00:00Z",
        "to=2100-01-01T00:00:00Z",
    ],
)
async def test_dates_at_the_edges_of_the_calendar_are_a_422(
    client: httpx.AsyncClient, query: str
) -> None:
    response = await client.get(f"/api/v1/services/ai-strategy-consultation/availability?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00"])
async def test_a_booking_at_the_edge_of_the_calendar_is_a_422(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, when: str
) -> None:
    account = await make_account(client, owner_conn, "edge@example.com")
    response = await client.post(
        "/api/v1/bookings",
        json={"serviceId": "ai-strategy-consultation", "scheduledAt": when},
        headers=account.auth,
    )
    assert response.status_code == 422, response.text
