"""The pipeline: transitions, the automatic timeline, scoring, conversion, CSV, statistics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest

from tests.factories import Account, make_account

Deliver = Callable[[], Awaitable[None]]


@pytest.fixture
async def admin(client: httpx.AsyncClient, owner_conn: asyncpg.Connection) -> Account:
    return await make_account(client, owner_conn, "sales@example.com", role="admin")


async def _lead(
    client: httpx.AsyncClient, email: str = "lead@example.com", **extra: object
) -> None:
    response = await client.post(
        "/api/v1/contact",
        json={
            "name": "Grace Hopper",
            "email": email,
            "message": "Hello",
            "type": "general",
            **extra,
        },
        headers={"X-Forwarded-For": f"198.51.100.{abs(hash(email)) % 200}"},
    )
    assert response.status_code == 201


async def _every_page(
    client: httpx.AsyncClient, admin: Account, params: dict[str, str | int]
) -> list[str]:
    """The addresses of every lead of the list, following its cursors to the end."""
    seen: list[str] = []
    cursor = None
    while True:
        asked = {**params, "cursor": cursor} if cursor else params
        page = (await client.get("/api/v1/leads", params=asked, headers=admin.auth)).json()
        seen += [x["email"] for x in page["data"]]
        cursor = page["meta"]["nextCursor"]
        if not cursor:
            return seen


async def _only_lead(client: httpx.AsyncClient, admin: Account) -> dict[str, object]:
    data = (await client.get("/api/v1/leads", headers=admin.auth)).json()["data"]
    assert len(data) == 1
    return dict(data[0])


async def test_transitions_and_automatic_timeline(
    client: httpx.AsyncClient, admin: Account, owner_conn: asyncpg.Connection
) -> None:
    await _lead(client)
    lead = await _only_lead(client, admin)
    url = f"/api/v1/leads/{lead['id']}"
    contacted = await client.patch(
        url,
        json={"status": "contacted", "assignedTo": str(admin.id), "tags": ["hot", "ai"]},
        headers=admin.auth,
    )
    assert contacted.status_code == 200, contacted.text
    assert contacted.json()["data"]["firstContactedAt"] is not None
    backwards = await client.patch(url, json={"status": "new"}, headers=admin.auth)
    assert backwards.status_code == 409
    lost = await client.patch(url, json={"status": "lost"}, headers=admin.auth)
    assert lost.status_code == 422  # a lost lead needs a reason
    await client.patch(url, json={"status": "qualified"}, headers=admin.auth)
    timeline = (await client.get(f"{url}/activities", headers=admin.auth)).json()["data"]
    kinds = [a["activityType"] for a in timeline]
    assert kinds.count("status_changed") == 2 and "assigned" in kinds and "tags_changed" in kinds
    status_change = next(a for a in timeline if a["activityType"] == "status_changed")
    assert status_change["userId"] == str(admin.id)
    assert status_change["metadata"] == {"old": "contacted", "new": "qualified", "automatic": True}
    logged = await client.post(
        f"{url}/activities",
        headers=admin.auth,
        json={"activityType": "call", "description": "Discussed scope"},
    )
    assert logged.status_code == 201
    won = await client.patch(
        url, json={"status": "lost", "lostReason": "budget"}, headers=admin.auth
    )
    assert won.status_code == 200
    closed = await client.patch(url, json={"status": "contacted"}, headers=admin.auth)
    assert closed.status_code == 409


async def test_scoring_rules_and_explanation(
    client: httpx.AsyncClient, admin: Account, owner_conn: asyncpg.Connection, deliver: Deliver
) -> None:
    await _lead(client, company="Acme", type="implementation")
    lead = await _only_lead(client, admin)
    assert lead["score"] == 30  # company +10, implementation +20
    score = (await client.get(f"/api/v1/leads/{lead['id']}/score", headers=admin.auth)).json()
    assert {d["rule"]: d["points"] for d in score["data"]["details"]} == {
        "Company given": 10,
        "Implementation inquiry": 20,
    }
    rule = await client.post(
        "/api/v1/leads/scoring-rules",
        headers=admin.auth,
        json={"name": "Message given", "kind": "field_present", "field": "message", "points": 7},
    )
    assert rule.status_code == 201
    await deliver()  # the rules changed: the worker re-scores every lead
    rescored = await _only_lead(client, admin)
    assert rescored["score"] == 37
    incomplete = await client.post(
        "/api/v1/leads/scoring-rules",
        headers=admin.auth,
        json={"name": "Broken", "kind": "field_equals", "field": "company", "points": 1},
    )
    assert incomplete.status_code == 422


async def test_booking_raises_the_score_of_the_users_lead(
    client: httpx.AsyncClient, admin: Account, owner_conn: asyncpg.Connection
) -> None:
    account = await make_account(client, owner_conn, "booker@example.com")
    await _lead(client, email="booker@example.com")
    service = await owner_conn.fetchval(
        "insert into services (name, slug) values ('S', 's') returning id"
    )
    await owner_conn.execute(
        "insert into service_bookings (user_id, service_id, scheduled_at, duration_minutes) "
        "values ($1, $2, now() + interval '5 days', 60)",
        account.id,
        service,
    )
    lead = await _only_lead(client, admin)
    details: list[dict[str, object]] = lead["scoreDetails"]  # type: ignore[assignment]
    assert any(d["rule"] == "Booked a consultation" for d in details)
    timeline = (
        await client.get(f"/api/v1/leads/{lead['id']}/activities", headers=admin.auth)
    ).json()["data"]
    assert "booking_requested" in [a["activityType"] for a in timeline]


async def test_conversion_creates_or_links_the_client(
    client: httpx.AsyncClient, admin: Account, owner_conn: asyncpg.Connection
) -> None:
    await _lead(client, email="new.client@example.com", company="NewCo")
    lead = await _only_lead(client, admin)
    converted = await client.post(f"/api/v1/leads/{lead['id']}/convert", headers=admin.auth)
    assert converted.status_code == 200
    data = converted.json()["data"]
    assert data["status"] == "converted" and data["conversionDate"] is not None
    user = await owner_conn.fetchrow(
        "select id, role, company from users where email = $1", "new.client@example.com"
    )
    assert user is not None and user["role"] == "client" and user["company"] == "NewCo"
    assert data["userId"] == str(user["id"])
    stats = (await client.get("/api/v1/leads/stats", headers=admin.auth)).json()["data"]
    assert stats["byStatus"] == {"converted": 1}
    assert stats["bySource"]["website"] == {"total": 1, "converted": 1, "conversionRate": 1.0}


async def test_list_filters_search_sort_and_cursor(
    client: httpx.AsyncClient, admin: Account
) -> None:
    for n, company in enumerate(["Quantum Widgets", "Blue Ocean", "Quantum Leap"]):
        await _lead(client, email=f"l{n}@example.com", company=company)
    found = await client.get("/api/v1/leads", params={"q": "quantum"}, headers=admin.auth)
    assert sorted(x["company"] for x in found.json()["data"]) == ["Quantum Leap", "Quantum Widgets"]
    seen = await _every_page(client, admin, {"limit": 2, "sort": "createdAt"})
    assert seen == ["l0@example.com", "l1@example.com", "l2@example.com"]
    scored = await client.get(
        "/api/v1/leads", params={"minScore": 10, "sort": "-score"}, headers=admin.auth
    )
    assert len(scored.json()["data"]) == 3
    bad = await client.get("/api/v1/leads", params={"sort": "email"}, headers=admin.auth)
    assert bad.status_code == 422


async def test_csv_round_trip(
    client: httpx.AsyncClient, admin: Account, owner_conn: asyncpg.Connection
) -> None:
    for n in range(3):
        await _lead(client, email=f"csv{n}@example.com", company=f"=Co{n}")
    export = await client.get("/api/v1/leads/export.csv", headers=admin.auth)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    lines = export.text.strip().splitlines()
    assert len(lines) == 4 and lines[0].startswith("id,email")
    assert "'=Co0" in export.text  # formulas neutralised for spreadsheets
    dry = await client.post(
        "/api/v1/leads/import",
        content=export.text,
        headers={**admin.auth, "content-type": "text/csv"},
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["data"]["counts"] == {"created": 0, "merged": 0, "duplicate": 3, "invalid": 0}
    mixed = (
        "email,first_name,company,status,tags\n"
        "csv0@example.com,,=Co0,,vip\n"  # a new tag: merged
        "fresh@example.com,Fred,Fresh Ltd,qualified,\n"
        "broken,,,,\n"
        "x@example.com,,,weird,\n"
    )
    report = await client.post(
        "/api/v1/leads/import",
        params={"dryRun": "false"},
        content=mixed,
        headers={**admin.auth, "content-type": "text/csv"},
    )
    counts = report.json()["data"]["counts"]
    assert counts == {"created": 1, "merged": 1, "duplicate": 0, "invalid": 2}
    assert await owner_conn.fetchval("select count(*) from leads") == 4
    tags = await owner_conn.fetchval("select tags from leads where email = 'csv0@example.com'")
    assert "vip" in tags
    no_header = await client.post(
        "/api/v1/leads/import",
        content="a,b\n1,2\n",
        headers={**admin.auth, "content-type": "text/csv"},
    )
    assert no_header.status_code == 422


async def test_an_import_beyond_the_drivers_parameter_limit_is_one_transaction(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    """33,000 rows: more than asyncpg's 32,767 bind parameters in any single list, and more than
    the ordinary 1 MiB body cap (imports have their own, MAX_IMPORT_BYTES)."""
    admin = await make_account(client, owner_conn, "importer@example.com", role="admin")
    rows = 33_000
    body = "email,first_name,company\r\n" + "".join(
        f"bulk{n}@example.com,Person{n},Company number {n}\r\n" for n in range(rows)
    )
    assert len(body) > 1_048_576
    headers = {**admin.auth, "content-type": "text/csv"}
    dry = await client.post("/api/v1/leads/import?dryRun=true", content=body, headers=headers)
    assert dry.status_code == 200, dry.text
    assert dry.json()["data"]["counts"]["created"] == rows
    assert await owner_conn.fetchval("select count(*) from leads") == 0
    applied = await client.post("/api/v1/leads/import?dryRun=false", content=body, headers=headers)
    assert applied.status_code == 200, applied.text
    assert await owner_conn.fetchval("select count(*) from leads") == rows


@pytest.mark.parametrize("matching", [3, 700], ids=["rare term", "common term"])
async def test_search_pages_are_complete_either_side_of_the_probe(
    client: httpx.AsyncClient, admin: Account, owner_conn: asyncpg.Connection, matching: int
) -> None:
    """A rare term is read through the full-text index (``staff_lead_page()`` probes for at
    most 500 matches), a common one by the date walk: both give every match once, newest
    first, across pages."""
    await owner_conn.execute(
        "insert into leads (email, company, created_at)"
        " select 'l' || g || '@example.com', case when g % 2 = 0 then 'Zephyr Works' end,"
        "        now() - make_interval(mins => g)"
        " from generate_series(1, $1 * 2) g",
        matching,
    )
    seen = await _every_page(client, admin, {"q": "zephyr", "limit": 100})
    assert seen == [f"l{g}@example.com" for g in range(2, matching * 2 + 1, 2)]
