"""The whole account flow against the app, with mail through a real SMTP server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import httpx

from tests.factories import PASSWORD, make_account
from tests.harness import MailSink

Deliver = Callable[[], Awaitable[None]]
EMAIL = "ada@example.com"


async def _register(client: httpx.AsyncClient, email: str = EMAIL) -> dict[str, object]:
    registered = await client.post(
        "/api/v1/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "first_name": "Ada",
            "lastName": "Lovelace",
            "company": "Analytical Engines",
            "jobTitle": "Engineer",
        },
    )
    assert registered.status_code == 201, registered.text
    data: dict[str, object] = registered.json()["data"]
    return data


async def _login(client: httpx.AsyncClient, **headers: str) -> dict[str, str]:
    login = await client.post(
        "/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}, headers=headers
    )
    assert login.status_code == 200, login.text
    data: dict[str, str] = login.json()["data"]
    return data


async def test_register_answers_with_a_new_unverified_visitor_and_tokens(
    client: httpx.AsyncClient,
) -> None:
    data = await _register(client)
    user = data["user"]
    assert isinstance(user, dict)
    assert user["status"] == "pending_verification"
    assert user["emailVerified"] is False and user["role"] == "visitor"
    assert data["accessToken"] and data["refreshToken"] and data["expiresIn"] == 900


async def test_the_verification_mail_verifies_once(
    client: httpx.AsyncClient, mail: MailSink, deliver: Deliver, owner_conn: asyncpg.Connection
) -> None:
    await _register(client)
    await deliver()
    [message] = mail.to(EMAIL)  # over SMTP, with text and HTML parts
    assert "Confirm" in message["Subject"]
    assert message.get_body(("html",)) is not None
    assert message["Date"] and message["Message-ID"]
    token = mail.link(EMAIL, "/verify-email")
    stored = await owner_conn.fetchval(
        "select email_verification_token from users where email = $1", EMAIL
    )
    assert stored is not None and token not in stored  # only the digest is kept

    verified = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200
    again = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 400  # single use
    login = await client.post(
        "/api/v1/auth/login", json={"email": "ADA@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    user = login.json()["data"]["user"]
    assert user["emailVerified"] is True and user["status"] == "active"


async def test_refresh_rotates_and_a_reused_token_ends_the_session(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    await _register(client)
    first_refresh = (await _login(client))["refreshToken"]
    rotated = await client.post("/api/v1/auth/refresh", json={"refreshToken": first_refresh})
    assert rotated.status_code == 200
    second_refresh = rotated.json()["data"]["refreshToken"]
    assert second_refresh != first_refresh
    headers = {"Authorization": f"Bearer {rotated.json()['data']['accessToken']}"}
    assert (await client.get("/api/v1/users/profile", headers=headers)).status_code == 200

    reused = await client.post("/api/v1/auth/refresh", json={"refreshToken": first_refresh})
    assert reused.status_code == 401
    assert reused.headers["content-type"] == "application/problem+json"
    after_reuse = await client.post("/api/v1/auth/refresh", json={"refreshToken": second_refresh})
    assert after_reuse.status_code == 401
    assert (await client.get("/api/v1/users/profile", headers=headers)).status_code == 401
    reuse_events = await owner_conn.fetchval(
        "select count(*) from audit_logs where action = 'auth.refresh_token_reused'"
    )
    assert reuse_events == 1


async def test_sessions_list_the_devices_and_logout_all_ends_them(
    client: httpx.AsyncClient,
) -> None:
    await _register(client)
    phone = await _login(client, **{"User-Agent": "Phone/1.0"})
    laptop = await _login(client, **{"User-Agent": "Laptop/2.0"})
    auth = {"Authorization": f"Bearer {laptop['accessToken']}"}
    listed = await client.get("/api/v1/auth/sessions", headers=auth)
    assert listed.status_code == 200
    sessions = listed.json()["data"]
    assert {s["userAgent"] for s in sessions} >= {"Phone/1.0", "Laptop/2.0"}
    assert [s["current"] for s in sessions].count(True) == 1
    assert all(s["ipAddress"] == "203.0.113.7" for s in sessions)

    assert (await client.post("/api/v1/auth/logout-all", headers=auth)).status_code == 200
    for device in (phone, laptop):
        refused = await client.post(
            "/api/v1/auth/refresh", json={"refreshToken": device["refreshToken"]}
        )
        assert refused.status_code == 401
    assert (await client.get("/api/v1/auth/sessions", headers=auth)).status_code == 401


async def test_logout_ends_only_the_current_session(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    account = await make_account(client, owner_conn, "grace@example.com")
    other = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    other_refresh = other.json()["data"]["refreshToken"]
    assert (await client.post("/api/v1/auth/logout", headers=account.auth)).status_code == 200
    assert (
        await client.post("/api/v1/auth/refresh", json={"refreshToken": account.refresh})
    ).status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refreshToken": other_refresh})
    ).status_code == 200


async def test_revoke_one_session_by_id(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    account = await make_account(client, owner_conn, "linus@example.com")
    other = (
        await client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    ).json()["data"]
    sessions = (await client.get("/api/v1/auth/sessions", headers=account.auth)).json()["data"]
    target = next(s["id"] for s in sessions if not s["current"])
    response = await client.delete(f"/api/v1/auth/sessions/{target}", headers=account.auth)
    assert response.status_code == 200
    assert (
        await client.post("/api/v1/auth/refresh", json={"refreshToken": other["refreshToken"]})
    ).status_code == 401
    again = await client.delete(f"/api/v1/auth/sessions/{target}", headers=account.auth)
    assert again.status_code == 404


async def test_unverified_accounts_log_in_suspended_do_not(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.com", "password": PASSWORD, "firstName": "N", "lastName": "U"},
    )
    assert registered.status_code == 201
    login = await client.post(
        "/api/v1/auth/login", json={"email": "new@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    assert login.json()["data"]["user"]["emailVerified"] is False
    for status in ("suspended", "inactive"):
        await owner_conn.execute(
            "update users set status = $1 where email = 'new@example.com'", status
        )
        blocked = await client.post(
            "/api/v1/auth/login", json={"email": "new@example.com", "password": PASSWORD}
        )
        assert blocked.status_code == 403
        assert blocked.json()["type"] == "/problems/account-blocked"


async def test_duplicate_registration_is_a_conflict(client: httpx.AsyncClient) -> None:
    body = {"email": "dup@example.com", "password": PASSWORD, "firstName": "D", "lastName": "U"}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201
    body["email"] = "DUP@Example.com"
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 409


async def test_unknown_email_and_wrong_password_answer_alike(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, monkeypatch: object
) -> None:
    await make_account(client, owner_conn, "known@example.com")
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "known@example.com", "password": "not the password"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever123"}
    )
    assert wrong.status_code == unknown.status_code == 401
    strip = ("instance", "requestId")
    assert {k: v for k, v in wrong.json().items() if k not in strip} == {
        k: v for k, v in unknown.json().items() if k not in strip
    }
    failures = await owner_conn.fetch(
        "select metadata->>'reason' as reason from audit_logs where action = 'auth.login_failed'"
    )
    assert sorted(r["reason"] for r in failures) == ["unknown_email", "wrong_password"]


async def test_legacy_bcrypt_password_logs_in_and_is_upgraded(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    import bcrypt

    legacy = bcrypt.hashpw(b"legacy-password", bcrypt.gensalt(rounds=4)).decode()
    legacy = "$2a$" + legacy[4:]  # pgcrypto's flavour
    await owner_conn.execute(
        "insert into users (email, first_name, last_name, password_hash, status, role, "
        "email_verified) values ('old@example.com', 'O', 'L', $1, 'active', 'client', true)",
        legacy,
    )
    login = await client.post(
        "/api/v1/auth/login", json={"email": "old@example.com", "password": "legacy-password"}
    )
    assert login.status_code == 200, login.text
    stored = await owner_conn.fetchval(
        "select password_hash from users where email = 'old@example.com'"
    )
    assert stored.startswith("$argon2id$")
    again = await client.post(
        "/api/v1/auth/login", json={"email": "old@example.com", "password": "legacy-password"}
    )
    assert again.status_code == 200


async def test_one_mailbox_is_one_account_however_it_is_typed(client: httpx.AsyncClient) -> None:
    await _register(client, "abc@bücher.example")
    for spelling in (
        "\uff41\uff42\uff43@bücher.example",
        "ABC@BÜCHER.example",
        "abc@xn--bcher-kva.example",
    ):
        again = await client.post(
            "/api/v1/auth/register",
            json={"email": spelling, "password": PASSWORD, "firstName": "A", "lastName": "B"},
        )
        assert again.status_code == 409, (spelling, again.text)
    login = await client.post(
        "/api/v1/auth/login",
        json={"email": "\uff21\uff22\uff23@bücher.example", "password": PASSWORD},
    )
    assert login.status_code == 200, login.text
    assert login.json()["data"]["user"]["email"] == "abc@xn--bcher-kva.example"
