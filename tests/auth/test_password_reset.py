"""Password reset: no enumeration, single use, expiry on a frozen clock, sessions end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from dreamer.core.config import Settings
from tests.factories import make_account
from tests.harness import MailSink

Deliver = Callable[[], Awaitable[None]]
NEW_PASSWORD = "a brand new passphrase"


async def test_reset_end_to_end_single_use(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    account = await make_account(client, owner_conn, "reset@example.com")
    known = await client.post("/api/v1/auth/password-reset", json={"email": account.email})
    unknown = await client.post("/api/v1/auth/password-reset", json={"email": "ghost@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.json()["data"] == unknown.json()["data"]
    await deliver()
    assert mail.to("ghost@example.com") == []
    token = mail.link(account.email, "/reset-password")

    confirmed = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert confirmed.status_code == 200, confirmed.text
    reused = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "password": "yet another passphrase"},
    )
    assert reused.status_code == 400

    # every earlier session ended; the old password is gone, the new one works
    assert (
        await client.post("/api/v1/auth/refresh", json={"refreshToken": account.refresh})
    ).status_code == 401
    assert (await client.get("/api/v1/users/profile", headers=account.auth)).status_code == 401
    old = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert old.status_code == 401
    new = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": NEW_PASSWORD}
    )
    assert new.status_code == 200


async def test_reset_link_expires_after_an_hour(
    client: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
    mail: MailSink,
    deliver: Deliver,
    frozen_clock: Callable[[datetime | None], None],
) -> None:
    account = await make_account(client, owner_conn, "late@example.com")
    start = datetime.now(UTC)
    frozen_clock(start)
    await client.post("/api/v1/auth/password-reset", json={"email": account.email})
    await deliver()
    token = mail.link(account.email, "/reset-password")
    frozen_clock(start + timedelta(minutes=61))
    expired = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert expired.status_code == 400
    assert expired.json()["type"] == "/problems/invalid-token"
    frozen_clock(start + timedelta(minutes=59))
    in_time = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert in_time.status_code == 200


async def test_verification_link_expires_after_48_hours(
    client: httpx.AsyncClient,
    mail: MailSink,
    deliver: Deliver,
    frozen_clock: Callable[[datetime | None], None],
) -> None:
    start = datetime.now(UTC)
    frozen_clock(start)
    await client.post(
        "/api/v1/auth/register",
        json={
            "email": "slow@example.com",
            "password": "slow but steady wins",
            "firstName": "S",
            "lastName": "W",
        },
    )
    await deliver()
    token = mail.link("slow@example.com", "/verify-email")
    frozen_clock(start + timedelta(hours=49))
    response = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert response.status_code == 400


async def test_change_password_needs_the_current_one_and_ends_other_sessions(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    account = await make_account(client, owner_conn, "change@example.com")
    other = (
        await client.post(
            "/api/v1/auth/login", json={"email": account.email, "password": account.password}
        )
    ).json()["data"]
    wrong = await client.post(
        "/api/v1/auth/password",
        headers=account.auth,
        json={"currentPassword": "wrong one!", "newPassword": NEW_PASSWORD},
    )
    assert wrong.status_code == 403
    changed = await client.post(
        "/api/v1/auth/password",
        headers=account.auth,
        json={"currentPassword": account.password, "newPassword": NEW_PASSWORD},
    )
    assert changed.status_code == 200
    assert (
        await client.post("/api/v1/auth/refresh", json={"refreshToken": other["refreshToken"]})
    ).status_code == 401
    assert (await client.get("/api/v1/users/profile", headers=account.auth)).status_code == 200
    await deliver()
    assert any("password was changed" in m["Subject"] for m in mail.to(account.email))


async def test_weak_passwords_are_refused(client: httpx.AsyncClient) -> None:
    for password in ("short", "password123", "qwertyuiop", "iloveyou"):
        response = await client.post(
            "/api/v1/auth/register",
            json={
                "email": "weak@example.com",
                "password": password,
                "firstName": "W",
                "lastName": "P",
            },
        )
        assert response.status_code == 422, password


async def test_long_passwords_are_not_truncated(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    long_password = "x" * 72 + "-first-ending"
    account = await make_account(client, owner_conn, "long@example.com", password=long_password)
    same_prefix = "x" * 72 + "-other-ending"
    refused = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": same_prefix}
    )
    assert refused.status_code == 401
    accepted = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": long_password}
    )
    assert accepted.status_code == 200


async def test_a_reset_request_does_the_same_work_for_known_and_unknown_addresses(
    settings: Settings, owner_conn: asyncpg.Connection
) -> None:
    """Timing must not tell whether an address has an account: both requests are one and the
    same statement (the lookup, the mail and the audit entry happen inside it)."""
    from sqlalchemy import event

    from dreamer.auth import service
    from dreamer.db.session import Database, RequestContext

    await owner_conn.execute(
        "insert into users (email, first_name, last_name, status)"
        " values ('known@example.com', 'K', 'N', 'active')"
    )
    assert settings.database_auth_url is not None
    db = Database(settings.database_auth_url, pool_size=1)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        per_request = []
        for email in ("known@example.com", "nobody@example.com"):
            async with db.transaction(RequestContext()) as session:
                statements.clear()
                await service.request_password_reset(session, email)
                per_request.append(list(statements))
    finally:
        await db.dispose()
    assert per_request[0] == per_request[1]
    assert len(per_request[0]) == 1
    mails = await owner_conn.fetch("select template, to_address from mail_outbox")
    assert [(m["template"], m["to_address"]) for m in mails] == [
        ("password_reset", "known@example.com")
    ]
    audited = await owner_conn.fetch(
        "select metadata->>'known' as known from audit_logs"
        " where action = 'auth.password_reset_requested' order by created_at"
    )
    assert [a["known"] for a in audited] == ["true", "false"]
