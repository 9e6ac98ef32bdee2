"""The original system's database, built here with its own DDL (the schema of DATA_MODEL.md:
plain tables, `$2a$` bcrypt hashes, plain-text tokens), imported with `dreamer import legacy`:
people log in with their old passwords, ids are kept, tokens are dropped, what our invariants
refuse is reported, and a second run changes nothing."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import bcrypt
import httpx
import pytest

from tests.harness import ClonedDatabase, Cluster, run_cli

ORIGINAL_DDL = """
CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email varchar(255) UNIQUE NOT NULL, password_hash varchar(255),
    first_name varchar(100) NOT NULL, last_name varchar(100) NOT NULL,
    phone varchar(50), company varchar(255), job_title varchar(255),
    role varchar(20) DEFAULT 'visitor', status varchar(30) DEFAULT 'pending_verification',
    email_verified boolean DEFAULT false, email_verification_token varchar(255),
    password_reset_token varchar(255), password_reset_expires timestamptz,
    last_login timestamptz, login_count integer DEFAULT 0,
    preferences jsonb DEFAULT '{}', metadata jsonb DEFAULT '{}',
    created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now()
);
CREATE TABLE user_sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid REFERENCES users ON DELETE CASCADE,
    session_token varchar(255) UNIQUE NOT NULL, ip_address inet, user_agent text,
    expires_at timestamptz NOT NULL, created_at timestamptz DEFAULT now()
);
CREATE TABLE services (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name varchar(255) NOT NULL,
    slug varchar(255) UNIQUE NOT NULL, description text, features jsonb DEFAULT '[]',
    pricing jsonb DEFAULT '{}', duration_minutes integer DEFAULT 60, is_active boolean DEFAULT true,
    sort_order integer DEFAULT 0, metadata jsonb DEFAULT '{}',
    created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now()
);
CREATE TABLE service_bookings (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid REFERENCES users,
    service_id uuid REFERENCES services, consultation_type varchar(30),
    scheduled_at timestamptz NOT NULL, duration_minutes integer DEFAULT 60,
    status varchar(20) DEFAULT 'pending', meeting_link text, notes text, internal_notes text,
    reminder_sent boolean DEFAULT false, completed_at timestamptz, cancelled_at timestamptz,
    cancellation_reason text, metadata jsonb DEFAULT '{}',
    created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now()
);
CREATE TABLE leads (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid REFERENCES users,
    email varchar(255) NOT NULL, first_name varchar(100), last_name varchar(100),
    company varchar(255), phone varchar(50), message text, inquiry_type varchar(100),
    status varchar(20) DEFAULT 'new', source varchar(20) DEFAULT 'website',
    source_details jsonb DEFAULT '{}', assigned_to uuid REFERENCES users, score integer DEFAULT 0,
    tags jsonb DEFAULT '[]', conversion_date timestamptz, lost_reason text,
    metadata jsonb DEFAULT '{}', created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);
CREATE TABLE lead_activities (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), lead_id uuid REFERENCES leads ON DELETE CASCADE,
    user_id uuid REFERENCES users, activity_type varchar(50) NOT NULL, description text,
    metadata jsonb DEFAULT '{}', created_at timestamptz DEFAULT now()
);
CREATE TABLE testimonials (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), client_name varchar(255) NOT NULL,
    client_title varchar(255), client_company varchar(255), client_image text,
    content text NOT NULL, rating integer, case_study_id uuid, is_featured boolean DEFAULT false,
    is_active boolean DEFAULT true, sort_order integer DEFAULT 0, metadata jsonb DEFAULT '{}',
    created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now()
);
CREATE TABLE chat_conversations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid REFERENCES users,
    session_id varchar(255), title varchar(255), is_active boolean DEFAULT true,
    metadata jsonb DEFAULT '{}', created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);
CREATE TABLE chat_messages (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id uuid REFERENCES chat_conversations ON DELETE CASCADE,
    role varchar(20) NOT NULL, content text NOT NULL, tokens_used integer,
    model_used varchar(100), metadata jsonb DEFAULT '{}', created_at timestamptz DEFAULT now()
);
CREATE TABLE newsletter_subscriptions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email varchar(255) UNIQUE NOT NULL,
    user_id uuid REFERENCES users, is_active boolean DEFAULT true, tags jsonb DEFAULT '[]',
    unsubscribed_at timestamptz, unsubscribe_token varchar(255) UNIQUE,
    metadata jsonb DEFAULT '{}', created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);
CREATE TABLE analytics_events (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid, session_id varchar(255),
    event_type varchar(100) NOT NULL, page_url text, properties jsonb DEFAULT '{}',
    ip_address inet, user_agent text, created_at timestamptz DEFAULT now()
);
CREATE TABLE audit_logs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid, action varchar(100) NOT NULL,
    entity_type varchar(100) NOT NULL, entity_id uuid, old_values jsonb, new_values jsonb,
    ip_address inet, user_agent text, metadata jsonb DEFAULT '{}',
    created_at timestamptz DEFAULT now()
);
"""
ADA = uuid.UUID("11111111-1111-4111-8111-111111111111")
OLD_PASSWORD = "analytical engine 1843"


@pytest.fixture
async def legacy(cluster: Cluster) -> AsyncIterator[str]:
    """A database of the original system with a little of everything."""
    name = f"legacy_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(cluster.superuser_url)
    await admin.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(cluster.superuser_url)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(ORIGINAL_DDL)
        hashed = bcrypt.hashpw(OLD_PASSWORD.encode(), bcrypt.gensalt(prefix=b"2a")).decode()
        assert hashed.startswith("$2a$")
        await conn.execute(
            "insert into users (id, email, password_hash, first_name, last_name, role, status,"
            " email_verified, email_verification_token, password_reset_token)"
            " values ($1, 'ada@engines.example', $2, 'Ada', 'Lovelace', 'client', 'active',"
            " true, 'plain-verify-token', 'plain-reset-token')",
            ADA,
            hashed,
        )
        await conn.execute(
            "insert into user_sessions (user_id, session_token, expires_at)"
            " values ($1, 'plain-session-token', now() + interval '1 day')",
            ADA,
        )
        service = await conn.fetchval(
            "insert into services (name, slug, pricing) values ('Legacy audit', 'legacy-audit',"
            ' \'{"type": "fixed", "amount": 900, "currency": "USD"}\') returning id'
        )
        for minutes in (0, 30):  # the second overlaps the first: our calendar refuses it
            await conn.execute(
                "insert into service_bookings (user_id, service_id, consultation_type,"
                " scheduled_at, status) values ($1, $2, 'discovery',"
                " date_trunc('hour', now()) + interval '10 days' + make_interval(mins => $3),"
                " 'confirmed')",
                ADA,
                service,
                minutes,
            )
        lead = await conn.fetchval(
            "insert into leads (email, first_name, message, status, source)"
            " values ('grace@navy.example', 'Grace', 'Hello', 'contacted', 'referral') returning id"
        )
        await conn.execute(
            "insert into lead_activities (lead_id, activity_type, description)"
            " values ($1, 'call', 'First call')",
            lead,
        )
        await conn.execute(
            "insert into testimonials (client_name, content, rating, is_active) values"
            " ('Kept', 'Great work', 5, true), ('Hidden', 'Old', 4, false),"
            " ('Broken', 'Out of range', 9, true)"
        )
        conversation = await conn.fetchval(
            "insert into chat_conversations (user_id, title) values ($1, 'Hi') returning id", ADA
        )
        await conn.execute(
            "insert into chat_messages (conversation_id, role, content, tokens_used) values"
            " ($1, 'user', 'Hello?', 3), ($1, 'assistant', 'Mock answer', 5)",
            conversation,
        )
        await conn.execute(
            "insert into newsletter_subscriptions (email, unsubscribe_token) values"
            " ('reader@example.com', 'plain-unsubscribe'), ('gone@example.com', 'plain-2')"
        )
        await conn.execute(
            "insert into analytics_events (user_id, session_id, event_type, page_url,"
            " ip_address, user_agent) values ($1, 'sess-1', 'page_view',"
            " 'https://dreamer.test/services?token=abc&utm_source=mail', '203.0.113.99',"
            " 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36')",
            ADA,
        )
        await conn.execute(
            "insert into audit_logs (user_id, action, entity_type, entity_id, new_values)"
            " values ($1, 'update', 'users', $1,"
            ' \'{"password_reset_token": "plain-reset-token", "first_name": "Ada"}\')',
            ADA,
        )
    finally:
        await conn.close()
    yield url
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.close()


def _import(db: ClonedDatabase, home: Path, source: str, *extra: str) -> str:
    done = run_cli(db, home, "import", "legacy", "--from", source, *extra)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def _hash(owner: asyncpg.Connection) -> str:
    value: str = await owner.fetchval("select password_hash from users where id = $1", ADA)
    return value


async def _snapshot(owner: asyncpg.Connection) -> dict[str, int]:
    tables = (
        "users",
        "services",
        "service_bookings",
        "leads",
        "lead_activities",
        "testimonials",
        "chat_conversations",
        "chat_messages",
        "newsletter_subscriptions",
        "analytics_events",
        "audit_logs",
    )
    return {t: await owner.fetchval(f"select count(*) from {t}") for t in tables}


async def test_import_keeps_ids_and_passwords_and_a_second_run_changes_nothing(
    legacy: str,
    fresh_db: ClonedDatabase,
    owner_conn: asyncpg.Connection,
    client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    await owner_conn.execute(
        "insert into newsletter_suppressions (email_hash, reason)"
        " values (email_hash('gone@example.com'), 'unsubscribed')"
    )
    empty = await _snapshot(owner_conn)
    dry = _import(fresh_db, tmp_path, legacy, "--dry-run")
    assert "dry run: nothing written" in dry
    assert await _snapshot(owner_conn) == empty

    report = _import(fresh_db, tmp_path, legacy)
    assert "service_bookings_no_overlap" in report, report  # the overlapping booking
    assert "testimonials_rating_check" in report or "refused" in report
    assert "suppression list" in report and "sign in again" in report
    user = await owner_conn.fetchrow("select * from users where id = $1", ADA)
    assert user["email"] == "ada@engines.example" and user["password_hash"].startswith("$2a$")
    assert user["email_verification_token"] is None and user["password_reset_token"] is None
    assert await owner_conn.fetchval("select count(*) from user_sessions") == 0
    assert await owner_conn.fetchval("select count(*) from service_bookings") == 1
    statuses = dict(await owner_conn.fetch("select client_name, status::text from testimonials"))
    assert statuses == {"Kept": "published", "Hidden": "archived"}
    subscriber = await owner_conn.fetchrow(
        "select unsubscribe_token, confirmed_at from newsletter_subscriptions"
    )
    assert subscriber["unsubscribe_token"] != "plain-unsubscribe"
    assert subscriber["confirmed_at"] is not None
    event = await owner_conn.fetchrow("select * from analytics_events")
    assert str(event["ip_address"]) == "203.0.113.0/24" and event["browser"] == "Chrome"
    assert event["session_id"] != "sess-1" and "token" not in event["page_url"]
    assert event["path"] == "/services" and event["utm_source"] == "mail"
    assert await owner_conn.fetchval("select sum(events) from analytics_daily") == 1
    dump = await owner_conn.fetchval("select string_agg(a::text, ' ') from audit_logs a")
    assert "plain-reset-token" not in dump
    assert (
        await owner_conn.fetchval(
            "select count(*) from chat_messages m join chat_conversations c"
            " on c.id = m.conversation_id where c.user_id = $1",
            ADA,
        )
        == 2
    )

    # Ada signs in with her old password; the hash becomes Argon2id
    login = await client.post(
        "/api/v1/auth/login", json={"email": "ada@engines.example", "password": OLD_PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert (await _hash(owner_conn)).startswith("$argon2id$")

    after = await _snapshot(owner_conn)
    again = _import(fresh_db, tmp_path, legacy)
    assert await _snapshot(owner_conn) == after, again
    assert (await _hash(owner_conn)).startswith("$argon2id$")
