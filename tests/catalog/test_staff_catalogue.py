"""Staff manage the catalogue: validated pricing, slug aliases, deactivate, reorder, delete."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from dreamer.core.config import Settings
from dreamer.seed.runner import run_seed
from tests.factories import Account, make_account

NEW = {
    "name": "AI Audit",
    "slug": "ai-audit",
    "description": "Review of your AI systems",
    "features": ["Risk review", "Report"],
    "durationMinutes": 90,
    "pricing": {"type": "fixed", "amount": 1200, "currency": "eur"},
}


@pytest.fixture
async def admin(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, settings: Settings
) -> Account:
    assert settings.database_owner_url
    await run_seed(settings, settings.database_owner_url, demo=False, only_if_empty=False)
    return await make_account(client, owner_conn, "cat@example.com", role="admin")


async def test_create_and_read_back(client: httpx.AsyncClient, admin: Account) -> None:
    created = await client.post("/api/v1/services", json=NEW, headers=admin.auth)
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["pricing"] == {"type": "fixed", "amount": 1200.0, "currency": "EUR"}
    assert (await client.get("/api/v1/services/ai-audit")).json()["data"]["durationMinutes"] == 90
    dup = await client.post("/api/v1/services", json=NEW, headers=admin.auth)
    assert dup.status_code == 409


@pytest.mark.parametrize(
    "pricing",
    [
        {"type": "fixed", "amount": 100, "currency": "XXQ"},
        {"type": "fixed", "amount": -5, "currency": "USD"},
        {"type": "hourly", "rate": 200, "currency": "USD"},  # minimumHours missing
        {"type": "workshop", "amount": 2500, "currency": "USD", "maxAttendees": 0},
        {"type": "barter", "amount": 1, "currency": "USD"},
        {"type": "custom", "startingAt": 100, "currency": "USD", "extra": 1},
    ],
)
async def test_pricing_is_validated_per_type(
    client: httpx.AsyncClient, admin: Account, pricing: dict[str, object]
) -> None:
    response = await client.post(
        "/api/v1/services", json={**NEW, "pricing": pricing}, headers=admin.auth
    )
    assert response.status_code == 422


async def test_hourly_and_workshop_pricing(client: httpx.AsyncClient, admin: Account) -> None:
    hourly = {
        **NEW,
        "slug": "hourly-help",
        "pricing": {"type": "hourly", "rate": 150.5, "minimumHours": 4, "currency": "GBP"},
    }
    response = await client.post("/api/v1/services", json=hourly, headers=admin.auth)
    assert response.json()["data"]["pricing"] == {
        "type": "hourly",
        "rate": 150.5,
        "minimumHours": 4,
        "currency": "GBP",
    }


async def test_slug_change_keeps_the_old_slug_resolving(
    client: httpx.AsyncClient, admin: Account
) -> None:
    service = (await client.get("/api/v1/services/ai-training-workshop")).json()["data"]
    renamed = await client.patch(
        f"/api/v1/services/{service['id']}", json={"slug": "ai-team-training"}, headers=admin.auth
    )
    assert renamed.status_code == 200 and renamed.json()["data"]["slug"] == "ai-team-training"
    old = await client.get("/api/v1/services/ai-training-workshop")
    assert old.status_code == 200 and old.json()["data"]["slug"] == "ai-team-training"
    back = await client.patch(
        f"/api/v1/services/{service['id']}",
        json={"slug": "ai-training-workshop"},
        headers=admin.auth,
    )
    assert back.status_code == 200
    assert (await client.get("/api/v1/services/ai-team-training")).json()["data"]["slug"] == (
        "ai-training-workshop"
    )


async def test_deactivate_hides_from_the_public(client: httpx.AsyncClient, admin: Account) -> None:
    service = (await client.get("/api/v1/services/ai-training-workshop")).json()["data"]
    await client.patch(
        f"/api/v1/services/{service['id']}", json={"isActive": False}, headers=admin.auth
    )
    assert (await client.get("/api/v1/services/ai-training-workshop")).status_code == 404
    public = (await client.get("/api/v1/services")).json()["meta"]["total"]
    staff_all = (await client.get("/api/v1/services", headers=admin.auth)).json()["meta"]["total"]
    inactive = await client.get(
        "/api/v1/services", params={"isActive": "false"}, headers=admin.auth
    )
    assert public == 3 and staff_all == 4
    assert [s["slug"] for s in inactive.json()["data"]] == ["ai-training-workshop"]


async def test_reorder(client: httpx.AsyncClient, admin: Account) -> None:
    services = (await client.get("/api/v1/services")).json()["data"]
    reversed_ids = [s["id"] for s in reversed(services)]
    response = await client.post(
        "/api/v1/services/reorder", json={"ids": reversed_ids}, headers=admin.auth
    )
    assert response.status_code == 200
    again = (await client.get("/api/v1/services")).json()["data"]
    assert [s["id"] for s in again] == reversed_ids


async def test_delete_only_unbooked_services(
    client: httpx.AsyncClient, admin: Account, owner_conn: asyncpg.Connection
) -> None:
    fresh = (await client.post("/api/v1/services", json=NEW, headers=admin.auth)).json()["data"]
    assert (
        await client.delete(f"/api/v1/services/{fresh['id']}", headers=admin.auth)
    ).status_code == 200
    booked = (await client.get("/api/v1/services/ai-strategy-consultation")).json()["data"]
    await owner_conn.execute(
        "insert into service_bookings (user_id, service_id, scheduled_at, duration_minutes, "
        "status) values ($1, $2::uuid, now() + interval '3 days', 60, 'completed')",
        admin.id,
        booked["id"],
    )
    refused = await client.delete(f"/api/v1/services/{booked['id']}", headers=admin.auth)
    assert refused.status_code == 409 and "deactivate" in refused.json()["detail"]


async def test_availability_settings_and_exceptions(
    client: httpx.AsyncClient, admin: Account
) -> None:
    current = (await client.get("/api/v1/admin/availability", headers=admin.auth)).json()["data"]
    assert current["weeklyHours"]["1"] == [["09:00", "17:00"]] and current["slotMinutes"] == 30
    changed = await client.put(
        "/api/v1/admin/availability",
        headers=admin.auth,
        json={
            "timeZone": "America/New_York",
            "weeklyHours": {"6": [["10:00", "14:00"]]},
            "bufferMinutes": 30,
        },
    )
    assert changed.status_code == 200
    data = changed.json()["data"]
    assert (
        data["timeZone"] == "America/New_York"
        and data["weeklyHours"]["6"] == [["10:00", "14:00"]]
        and data["weeklyHours"]["1"] == [["09:00", "17:00"]]
    )
    bad = await client.put(
        "/api/v1/admin/availability",
        headers=admin.auth,
        json={"weeklyHours": {"1": [["17:00", "09:00"]]}},
    )
    assert bad.status_code == 422
    bad_zone = await client.put(
        "/api/v1/admin/availability", headers=admin.auth, json={"timeZone": "Nowhere/City"}
    )
    assert bad_zone.status_code == 422
    holiday = await client.post(
        "/api/v1/admin/availability/exceptions",
        headers=admin.auth,
        json={"date": "2027-12-25", "reason": "Christmas"},
    )
    assert holiday.status_code == 201
    dup = await client.post(
        "/api/v1/admin/availability/exceptions", headers=admin.auth, json={"date": "2027-12-25"}
    )
    assert dup.status_code == 409
    listed = (await client.get("/api/v1/admin/availability/exceptions", headers=admin.auth)).json()[
        "data"
    ]
    assert [e["date"] for e in listed] == ["2027-12-25"]
    removed = await client.delete(
        f"/api/v1/admin/availability/exceptions/{listed[0]['id']}", headers=admin.auth
    )
    assert removed.status_code == 200
