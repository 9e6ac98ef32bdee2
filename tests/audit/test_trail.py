"""The audit trail, read by staff: by entity, by actor, paged, secrets redacted."""

from __future__ import annotations

import asyncpg
import httpx

from tests.factories import make_account


async def test_staff_read_the_trail_of_one_entity_newest_first_in_pages(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    admin = await make_account(client, owner_conn, "auditor@example.com", role="admin")
    posted = await client.post(
        "/api/v1/contact",
        json={"name": "Ada Lovelace", "email": "ada@example.com", "message": "Hello"},
    )
    assert posted.status_code == 201
    lead = (await client.get("/api/v1/leads", headers=admin.auth)).json()["data"][0]
    for status in ("contacted", "qualified"):
        changed = await client.patch(
            f"/api/v1/leads/{lead['id']}", json={"status": status}, headers=admin.auth
        )
        assert changed.status_code == 200
    url = f"/api/v1/admin/audit?entityType=leads&entityId={lead['id']}&limit=2"
    first = await client.get(url, headers=admin.auth)
    assert first.status_code == 200, first.text
    entries = first.json()["data"]
    # newest first, in the order they were written: the last change was the move to
    # qualified (its timeline entry then touched last_activity_at)
    assert [e["action"] for e in entries] == ["update", "update"]
    moved = next(e for e in entries if "status" in (e["newValues"] or {}))
    assert moved["newValues"]["status"] == "qualified"
    assert moved["oldValues"]["status"] == "contacted"
    assert moved["userId"] == str(admin.id)
    assert entries[0]["createdAt"] >= entries[1]["createdAt"]
    cursor = first.json()["meta"]["nextCursor"]
    rest: list[dict[str, object]] = []
    while cursor:
        page = (await client.get(f"{url}&cursor={cursor}", headers=admin.auth)).json()
        rest += page["data"]
        cursor = page["meta"]["nextCursor"]
    assert rest[-1]["action"] == "insert" and rest[-1]["userId"] is None  # the public's form
    ids = [e["id"] for e in entries + rest]
    assert len(ids) == len(set(ids))
    assert [e["createdAt"] for e in entries + rest] == sorted(
        (str(e["createdAt"]) for e in entries + rest), reverse=True
    )

    mine = (await client.get(f"/api/v1/admin/audit?userId={admin.id}", headers=admin.auth)).json()
    assert mine["data"] and all(e["userId"] == str(admin.id) for e in mine["data"])


async def test_secrets_stay_redacted_and_bad_filters_are_400_or_422(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    admin = await make_account(client, owner_conn, "auditor2@example.com", role="admin")
    url = f"/api/v1/admin/audit?entityType=users&entityId={admin.id}&limit=100"
    entries = (await client.get(url, headers=admin.auth)).json()["data"]
    created = next(e for e in entries if e["action"] == "insert")
    assert created["newValues"]["password_hash"] == "[redacted]"
    assert "correct horse" not in str(entries)
    bad = await client.get("/api/v1/admin/audit?cursor=nonsense", headers=admin.auth)
    assert bad.status_code == 400
    assert (
        await client.get("/api/v1/admin/audit?entityType=Users;", headers=admin.auth)
    ).status_code == 422
    client_account = await make_account(client, owner_conn, "client@example.com")
    denied = await client.get("/api/v1/admin/audit", headers=client_account.auth)
    assert denied.status_code == 403
