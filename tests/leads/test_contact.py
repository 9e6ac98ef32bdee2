"""The contact form: the website's payload, merging, assignment, scoring, spam defences."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import httpx

from dreamer.core.config import Settings
from tests.factories import Account, make_account
from tests.harness import MailSink

WEBSITE = {
    "name": "Ada Lovelace",
    "email": "ada@engines.example",
    "company": "Engines Ltd",
    "message": "We want an AI assistant for our support team.",
    "type": "general",
}
Deliver = Callable[[], Awaitable[None]]


async def _staff(client: httpx.AsyncClient, owner: asyncpg.Connection) -> list[Account]:
    staff = []
    for name in ("sales1", "sales2"):
        account = await make_account(client, owner, f"{name}@example.com", role="admin")
        await owner.execute("update users set accepts_leads = true where id = $1", account.id)
        staff.append(account)
    return staff


async def test_the_websites_payload_creates_a_scored_assigned_lead(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    staff = await _staff(client, owner_conn)
    response = await client.post("/api/v1/contact/submit", json=WEBSITE)
    assert response.status_code == 201
    lead = await owner_conn.fetchrow("select * from leads")
    assert lead is not None
    assert (lead["first_name"], lead["last_name"], lead["company"]) == (
        "Ada",
        "Lovelace",
        "Engines Ltd",
    )
    assert lead["inquiry_type"] == "general" and lead["source"] == "website"
    assert lead["score"] == 10  # company given
    assert lead["assigned_to"] in {s.id for s in staff}
    activity = await owner_conn.fetchval(
        "select activity_type from lead_activities where lead_id = $1", lead["id"]
    )
    assert activity == "inquiry"
    await deliver()
    notified = [m for m in mail.messages if m["Subject"].startswith("New lead")]
    assert len(notified) == 1 and "Engines Ltd" in notified[0]["Subject"]


async def test_round_robin_assignment(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    staff = await _staff(client, owner_conn)
    for n in range(4):
        await client.post(
            "/api/v1/contact",
            json={**WEBSITE, "email": f"p{n}@example.com"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        )
    owners = [
        r["assigned_to"]
        for r in await owner_conn.fetch("select assigned_to from leads order by created_at")
    ]
    assert owners[0] != owners[1] and owners[0] == owners[2] and owners[1] == owners[3]
    assert set(owners) == {s.id for s in staff}


async def test_repeat_inquiry_merges_into_the_open_lead(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    first = await client.post("/api/v1/contact", json=WEBSITE)
    second = await client.post(
        "/api/v1/contact",
        json={
            **WEBSITE,
            "email": "  ADA@Engines.Example ",
            "message": "Any news?",
            "type": "implementation",
        },
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()  # the same answer: nothing to learn from it
    assert await owner_conn.fetchval("select count(*) from leads") == 1
    activities = await owner_conn.fetch(
        "select description from lead_activities order by created_at"
    )
    assert [a["description"] for a in activities] == [WEBSITE["message"], "Any news?"]


async def test_lead_of_a_registered_user_is_linked(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    account = await make_account(client, owner_conn, "known@example.com")
    await client.post("/api/v1/contact", json={**WEBSITE, "email": "Known@example.com"})
    assert await owner_conn.fetchval("select user_id from leads") == account.id


async def test_honeypot_and_fill_time_drop_spam_silently(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    bot = await client.post("/api/v1/contact", json={**WEBSITE, "website": "http://spam"})
    token = (await client.get("/api/v1/contact/token")).json()["data"]["token"]
    hasty = await client.post("/api/v1/contact", json={**WEBSITE, "formToken": token})
    assert bot.status_code == hasty.status_code == 201
    assert await owner_conn.fetchval("select count(*) from leads") == 0
    forged = await client.post("/api/v1/contact", json={**WEBSITE, "formToken": "1.forged"})
    assert forged.status_code == 201
    assert await owner_conn.fetchval("select count(*) from leads") == 1  # unverifiable: kept


async def _send(client: httpx.AsyncClient, ip: str, **fields: object) -> int:
    response = await client.post(
        "/api/v1/contact", json={**WEBSITE, **fields}, headers={"X-Forwarded-For": ip}
    )
    return response.status_code


async def test_an_office_behind_one_address_is_not_locked_out(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    burst = int(settings.rate_limit_contact_ip.split("/")[0])
    assert burst >= 20
    codes = [await _send(client, "192.0.2.10", email=f"r{n}@example.com") for n in range(burst)]
    assert codes == [201] * burst
    over = await client.post(
        "/api/v1/contact", json=WEBSITE, headers={"X-Forwarded-For": "192.0.2.10"}
    )
    assert over.status_code == 429 and over.headers["content-type"] == "application/problem+json"
    # a bucket, not a window: the next submission is allowed after window / limit seconds
    window = int(settings.rate_limit_contact_ip.split("/")[1])
    assert 0 < int(over.headers["retry-after"]) <= window // burst
    assert await _send(client, "192.0.2.11") == 201  # another network is unaffected


async def test_one_address_is_limited_across_networks(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    burst = int(settings.rate_limit_contact_email.split("/")[0])
    codes = [
        await _send(client, f"198.51.100.{n}", email="Same@Example.com") for n in range(burst + 1)
    ]
    assert codes == [201] * burst + [429]
    assert await _send(client, "198.51.100.200", email="other@example.com") == 201


async def test_corrections_cost_less_than_submissions(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, settings: Settings
) -> None:
    burst = int(settings.rate_limit_contact_ip.split("/")[0])
    # four refused forms (a blank message, a mistyped address ...) cost one accepted one
    for _ in range(2 * burst):
        assert await _send(client, "203.0.113.5", email="typo@", message=" ") == 422
    accepted = [
        await _send(client, "203.0.113.5", email=f"p{n}@example.com") for n in range(burst // 2)
    ]
    assert accepted == [201] * (burst // 2)
    assert await _send(client, "203.0.113.5", email="late@example.com") == 429
    assert await owner_conn.fetchval("select count(*) from leads") == burst // 2
    # junk alone runs out too: refused forms are not free
    codes = [await _send(client, "203.0.113.6", name="") for _ in range(4 * burst + 1)]
    assert codes == [422] * (4 * burst) + [429]


async def test_validation(client: httpx.AsyncClient, owner_conn: asyncpg.Connection) -> None:
    bad = await client.post("/api/v1/contact", json={**WEBSITE, "email": "not-an-address"})
    assert bad.status_code == 422
    huge = await client.post("/api/v1/contact", json={**WEBSITE, "message": "x" * 2_000_000})
    assert huge.status_code == 413
    long = await client.post("/api/v1/contact", json={**WEBSITE, "message": "x" * 20_000})
    assert long.status_code == 422
    assert await owner_conn.fetchval("select count(*) from leads") == 0


async def test_newsletter_consent_on_the_form(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    await client.post("/api/v1/contact", json={**WEBSITE, "newsletter": True})
    row = await owner_conn.fetchrow("select is_active, tags, consent from newsletter_subscriptions")
    assert row is not None and row["is_active"] is False  # double opt-in still applies
    assert "contact-form" in row["tags"]
