"""GDPR: a person who used every part of the system (through the API, from an address of
their own) exports everything about them, with a canary in every table that holds personal
data; after the erasure a scan of every column of every table finds none of their email,
name, phone or IP. Plus the dry run, the staff route, the CLI and who may do what."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from dreamer.core.config import Settings
from tests.factories import PASSWORD, Account, make_account
from tests.harness import ClonedDatabase, run_cli

EMAIL = "canary.zyxw@example.com"
FIRST, LAST = "Zyxwna", "Qwertova"
PHONE = "+44 7700 900123"
IP = "198.51.100.77"
AGENT = "CanaryBrowser/9.9 (Zyx)"
CANARIES = (EMAIL, FIRST, LAST, PHONE, IP, AGENT)


@dataclass
class World:
    person: Account
    staff: Account
    them: httpx.AsyncClient  # the person's own browser, from IP
    office: httpx.AsyncClient  # staff, from elsewhere


@pytest.fixture
async def world(settings: Settings, owner_conn: asyncpg.Connection) -> AsyncIterator[World]:
    from dreamer.app import close_pools, create_app

    app = create_app(settings)
    mine = httpx.ASGITransport(app=app, client=(IP, 40000))
    theirs = httpx.ASGITransport(app=app, client=("203.0.113.50", 40000))
    async with (
        httpx.AsyncClient(
            transport=mine, base_url="http://testserver", headers={"User-Agent": AGENT}
        ) as them,
        httpx.AsyncClient(transport=theirs, base_url="http://testserver") as office,
    ):
        person = await make_account(them, owner_conn, EMAIL, role="client")
        staff = await make_account(office, owner_conn, "office@example.com", role="super_admin")
        await _use_everything(them, office, owner_conn, person, staff)
        yield World(person, staff, them, office)
    await close_pools(app)


async def _use_everything(
    them: httpx.AsyncClient,
    office: httpx.AsyncClient,
    owner: asyncpg.Connection,
    person: Account,
    staff: Account,
) -> None:
    h = person.auth
    profile = {"firstName": FIRST, "lastName": LAST, "phone": PHONE, "company": "Zyx Ltd"}
    assert (await them.put("/api/v1/users/profile", json=profile, headers=h)).status_code == 200
    contact = {
        "name": f"{FIRST} {LAST}",
        "email": EMAIL,
        "phone": PHONE,
        "message": f"Call {FIRST} on {PHONE} about an assistant.",
    }
    assert (await them.post("/api/v1/contact", json=contact)).status_code == 201
    started = await them.post("/api/v1/chat/conversations", json={}, headers=h)
    assert started.status_code == 201, started.text
    conversation = started.json()["data"]["id"]
    said = await them.post(
        f"/api/v1/chat/conversations/{conversation}/messages",
        json={"content": f"I am {FIRST} {LAST}, write to {EMAIL}: what do you offer?"},
        headers=h,
    )
    assert said.status_code == 201, said.text
    subscribed = await them.post("/api/v1/newsletter/subscribe", json={"email": EMAIL})
    assert subscribed.status_code == 202
    events = [{"eventType": "page_view", "pageUrl": "/", "properties": {"who": FIRST}}]
    assert (await them.post("/api/v1/analytics/events", json=events, headers=h)).status_code == 202
    service = await owner.fetchval(
        "insert into services (name, slug, pricing) values ('Audit', 'audit',"
        ' \'{"type": "fixed", "amount": 500, "currency": "USD"}\') returning id'
    )
    for status, days in (("completed", -20), ("confirmed", 20)):
        await owner.execute(
            "insert into service_bookings (user_id, service_id, scheduled_at, duration_minutes,"
            " status, notes, internal_notes) values ($1, $2, now() + make_interval(days => $3),"
            " 60, $4::booking_status, $5, $6)",
            person.id,
            service,
            days,
            status,
            f"{FIRST} wants a quote",
            f"{LAST} called from {PHONE}",
        )
    # staff act on the account (their own entries, from their own address)
    changed = await office.patch(
        f"/api/v1/admin/users/{person.id}", json={"acceptsLeads": False}, headers=staff.auth
    )
    assert changed.status_code in (200, 422), changed.text


async def _hits(owner: asyncpg.Connection) -> dict[str, list[str]]:
    """Per canary, the tables any of whose rows contains it as text (every column)."""
    tables = [
        r["relname"]
        for r in await owner.fetch(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition"
            " order by 1"
        )
    ]
    found: dict[str, list[str]] = {c: [] for c in CANARIES}
    for table in tables:
        for canary in CANARIES:
            if await owner.fetchval(
                f'select exists (select 1 from "{table}" t where strpos(lower(t::text), $1) > 0)',
                canary.lower(),
            ):
                found[canary].append(table)
    return found


async def test_the_export_holds_every_table_and_the_erasure_leaves_nothing(
    world: World, owner_conn: asyncpg.Connection
) -> None:
    before = await _hits(owner_conn)
    held = {t for tables in before.values() for t in tables}
    expected = {
        "users",
        "user_sessions",
        "leads",
        "lead_activities",
        "chat_conversations",
        "chat_messages",
        "newsletter_subscriptions",
        "mail_outbox",
        "analytics_events",
        "audit_logs",
        "service_bookings",
    }
    assert expected <= held, before

    answer = await world.them.get("/api/v1/users/me/export", headers=world.person.auth)
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    export = answer.json()
    assert export["format"] == "dreamer-export/1"
    assert export["profile"]["email"] == EMAIL and export["profile"]["phone"]
    assert "password_hash" not in export["profile"]
    assert "session_token" not in export["sessions"][0]
    assert IP in {s["ip_address"] for s in export["sessions"]}
    assert len(export["bookings"]) == 2
    assert export["leads"] and export["leads"][0]["activities"]
    assert any(EMAIL in m["content"] for c in export["chat"] for m in c["messages"])
    assert export["chatUsage"] and export["newsletter"] and export["mail"]
    assert export["analyticsEvents"][0]["properties"] == {"who": FIRST}
    assert export["auditTrail"]
    dumped = json.dumps(export)
    assert all(c in dumped for c in (EMAIL, FIRST, LAST, IP))
    assert "$argon2" not in dumped  # no hash, even in audit entries (they say "[redacted]")
    for secret in ("email_verification_token", "password_reset_token"):
        assert secret not in export["profile"]
    assert all("confirmation_token" not in n for n in export["newsletter"])

    wrong = await world.them.request(
        "DELETE", "/api/v1/users/me", json={"password": "not it"}, headers=world.person.auth
    )
    assert wrong.status_code == 403
    erased = await world.them.request(
        "DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=world.person.auth
    )
    assert erased.status_code == 200, erased.text
    report = erased.json()["data"]
    assert report["requestedBy"] == "self" and report["dryRun"] is False
    assert report["counts"]["users.deleted"] == 1
    assert report["counts"]["service_bookings.pseudonymised"] == 1

    after = await _hits(owner_conn)
    assert after == {c: [] for c in CANARIES}, after
    # what must be kept is kept, without the person
    kept = await owner_conn.fetchrow("select user_id, notes, status from service_bookings")
    assert (kept["user_id"], kept["notes"], kept["status"]) == (None, None, "completed")
    assert await owner_conn.fetchval(
        "select count(*) from audit_logs where user_id = $1", report["pseudonym"]
    )
    assert await owner_conn.fetchval(
        "select exists (select 1 from newsletter_suppressions where email_hash = email_hash($1))",
        EMAIL,
    )
    record = await owner_conn.fetchrow("select * from gdpr_erasures")
    assert record["requested_by"] == "self" and str(record["pseudonym"]) == report["pseudonym"]
    # the sessions are gone: the token and the password no longer work
    gone = await world.them.get("/api/v1/users/profile", headers=world.person.auth)
    assert gone.status_code == 401
    login = await world.them.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert login.status_code == 401


async def test_a_dry_run_reports_and_changes_nothing_and_staff_may_erase(
    world: World, owner_conn: asyncpg.Connection
) -> None:
    path = f"/api/v1/admin/users/{world.person.id}"
    before = await _hits(owner_conn)
    dry = await world.office.delete(f"{path}?dryRun=true", headers=world.staff.auth)
    assert dry.status_code == 200, dry.text
    assert dry.json()["data"]["dryRun"] is True
    assert dry.json()["data"]["counts"]["leads.deleted"] == 1
    assert await _hits(owner_conn) == before
    assert await owner_conn.fetchval("select count(*) from gdpr_erasures") == 0
    # a client may not export or erase someone else; staff may
    other = await make_account(world.office, owner_conn, "other@example.com")
    assert (await world.office.get(f"{path}/export", headers=other.auth)).status_code == 403
    assert (await world.office.get(f"{path}/export", headers=world.staff.auth)).status_code == 200
    done = await world.office.delete(path, headers=world.staff.auth)
    assert done.status_code == 200 and done.json()["data"]["requestedBy"] == "staff"
    assert await _hits(owner_conn) == {c: [] for c in CANARIES}
    assert (await world.office.delete(path, headers=world.staff.auth)).status_code == 404
    # the last super_admin cannot go
    last = await world.office.delete(
        f"/api/v1/admin/users/{world.staff.id}", headers=world.staff.auth
    )
    assert last.status_code == 409


async def test_the_cli_exports_and_erases(
    world: World, owner_conn: asyncpg.Connection, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(fresh_db, tmp_path, *args, timeout=120)

    exported = cli("export-user", EMAIL.upper())
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["profile"]["email"] == EMAIL
    dry = cli("erase-user", EMAIL, "--dry-run")
    assert dry.returncode == 0 and "would erase" in dry.stdout and "leads" in dry.stdout
    assert await owner_conn.fetchval("select count(*) from users where email = $1", EMAIL) == 1
    done = cli("erase-user", EMAIL, "--yes")
    assert done.returncode == 0, done.stderr
    assert await _hits(owner_conn) == {c: [] for c in CANARIES}
    assert (await owner_conn.fetchrow("select requested_by from gdpr_erasures"))[0] == "cli"
    missing = cli("export-user", "nobody@example.com")
    assert missing.returncode != 0 and "no account" in missing.stderr
