"""Double opt-in, RFC 8058 one-click unsubscribe, suppression, consent, staff tools."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import asyncpg
import httpx

from tests.factories import make_account
from tests.harness import MailSink

Deliver = Callable[[], Awaitable[None]]
EMAIL = "reader@example.com"


async def _subscribe_and_confirm(
    client: httpx.AsyncClient, mail: MailSink, deliver: Deliver
) -> str:
    """Returns the path of the one-click unsubscribe link from the List-Unsubscribe header."""
    response = await client.post(
        "/api/v1/newsletter/subscribe", json={"email": EMAIL, "tags": ["ai"]}
    )
    assert response.status_code == 202
    await deliver()
    token = mail.link(EMAIL, "/newsletter/confirm")
    confirmed = await client.post("/api/v1/newsletter/confirm", json={"token": token})
    assert confirmed.status_code == 200
    await deliver()
    welcome = next(m for m in mail.to(EMAIL) if "Welcome" in m["Subject"])
    raw = mail.raw[mail.messages.index(welcome)]
    assert b"List-Unsubscribe: <http" in raw  # a plain URL, not RFC 2047 encoded-words
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    match = re.fullmatch(r"<(.+)>", welcome["List-Unsubscribe"])
    assert match is not None
    url = urlsplit(match.group(1))
    return f"{url.path}?{url.query}"


async def test_double_opt_in_and_one_click_unsubscribe(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    link = await _subscribe_and_confirm(client, mail, deliver)
    row = await owner_conn.fetchrow("select * from newsletter_subscriptions")
    assert row is not None and row["is_active"] and row["confirmed_at"] is not None
    history = __import__("json").loads(row["consent"])["history"]
    assert [h["action"] for h in history] == ["subscribe", "confirm"]
    assert all(h["ip"] == "203.0.113.7" and h["wording"] for h in history)
    token = link.split("token=")[1]
    assert row["unsubscribe_token"] != token and token not in row["unsubscribe_token"]
    confirm_mail = next(m for m in mail.to(EMAIL) if "confirm" in m["Subject"].lower())
    assert confirm_mail["List-Unsubscribe"]  # every newsletter mail carries the headers

    # a mail scanner's GET shows a confirm step and unsubscribes nobody
    page = await client.get(link)
    assert page.status_code == 200 and "<form method=post" in page.text
    assert await owner_conn.fetchval("select is_active from newsletter_subscriptions")

    # the exact RFC 8058 request: POST, form body, no session
    client.cookies.clear()
    one_click = await client.post(
        link,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    again = await client.post(link)  # no body, and idempotent
    assert again.status_code == 200
    row = await owner_conn.fetchrow(
        "select is_active, unsubscribed_at from newsletter_subscriptions"
    )
    assert row is not None and not row["is_active"] and row["unsubscribed_at"] is not None
    assert await owner_conn.fetchval("select count(*) from newsletter_suppressions") == 1
    assert (
        await client.post("/api/v1/newsletter/unsubscribe", params={"token": "x" * 43})
    ).status_code == 404


async def test_subscribing_again_reveals_nothing_and_keeps_confirmation(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    await _subscribe_and_confirm(client, mail, deliver)
    before = await owner_conn.fetchrow(
        "select is_active, confirmed_at from newsletter_subscriptions"
    )
    repeat = await client.post("/api/v1/newsletter/subscribe", json={"email": EMAIL.upper()})
    fresh = await client.post("/api/v1/newsletter/subscribe", json={"email": "other@example.com"})
    assert repeat.status_code == fresh.status_code == 202
    assert repeat.json() == fresh.json()
    after = await owner_conn.fetchrow(
        "select is_active, confirmed_at from newsletter_subscriptions where email = $1", EMAIL
    )
    assert after == before
    await deliver()
    assert len([m for m in mail.to(EMAIL) if "confirm" in m["Subject"].lower()]) == 1


async def test_suppression_survives_imports(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    link = await _subscribe_and_confirm(client, mail, deliver)
    await client.post(link)
    admin = await make_account(client, owner_conn, "news@example.com", role="admin")
    csv = f"email,tags\n{EMAIL.upper()},promo\nnew.reader@example.com,promo\nnot-an-email,\n"
    dry = await client.post(
        "/api/v1/newsletter/import", content=csv, headers={**admin.auth, "content-type": "text/csv"}
    )
    assert dry.json()["data"]["counts"] == {
        "created": 1,
        "duplicate": 0,
        "suppressed": 1,
        "invalid": 1,
    }
    applied = await client.post(
        "/api/v1/newsletter/import",
        params={"dryRun": "false"},
        content=csv,
        headers={**admin.auth, "content-type": "text/csv"},
    )
    assert applied.status_code == 200
    states = dict(
        await owner_conn.fetch(
            "select email, is_active from newsletter_subscriptions order by email"
        )
    )
    assert states == {"new.reader@example.com": True, EMAIL: False}
    # the person's own double opt-in is what brings them back
    await client.post("/api/v1/newsletter/subscribe", json={"email": EMAIL})
    await deliver()
    await client.post(
        "/api/v1/newsletter/confirm", json={"token": mail.link(EMAIL, "/newsletter/confirm")}
    )
    assert await owner_conn.fetchval(
        "select is_active from newsletter_subscriptions where email = $1", EMAIL
    )
    assert await owner_conn.fetchval("select count(*) from newsletter_suppressions") == 0


async def test_staff_tools(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    await _subscribe_and_confirm(client, mail, deliver)
    await client.post("/api/v1/newsletter/subscribe", json={"email": "pending@example.com"})
    admin = await make_account(client, owner_conn, "news@example.com", role="admin")
    stats = (await client.get("/api/v1/newsletter/stats", headers=admin.auth)).json()["data"]
    assert stats == {"active": 1, "pending": 1, "unsubscribed": 0}
    active = (
        await client.get(
            "/api/v1/newsletter/subscribers", params={"status": "active"}, headers=admin.auth
        )
    ).json()["data"]
    assert [s["email"] for s in active] == [EMAIL]
    tagged = await client.patch(
        f"/api/v1/newsletter/subscribers/{active[0]['id']}",
        json={"tags": ["vip", "ai"]},
        headers=admin.auth,
    )
    assert tagged.json()["data"]["tags"] == ["ai", "vip"]
    by_tag = (
        await client.get(
            "/api/v1/newsletter/subscribers", params={"tag": "vip"}, headers=admin.auth
        )
    ).json()["data"]
    assert len(by_tag) == 1
    export = await client.get("/api/v1/newsletter/subscribers/export.csv", headers=admin.auth)
    assert export.text.splitlines()[0] == "email,active,tags,confirmed_at,unsubscribed_at"
    assert len(export.text.strip().splitlines()) == 3
    assert "unsubscribeToken" not in str(active) and "confirmationToken" not in str(active)


async def test_newsletter_events_reach_the_leads_timeline(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    await client.post("/api/v1/contact", json={"name": "R", "email": EMAIL, "message": "hi"})
    link = await _subscribe_and_confirm(client, mail, deliver)
    await client.post(link)
    kinds = [
        r["activity_type"]
        for r in await owner_conn.fetch(
            "select activity_type from lead_activities order by created_at"
        )
    ]
    assert kinds == ["inquiry", "newsletter_subscribed", "newsletter_unsubscribed"]
    details = await owner_conn.fetchval("select score_details from leads")
    assert "Newsletter subscriber" not in details  # unsubscribed again: no points
