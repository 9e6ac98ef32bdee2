"""Brute-force limits kept in PostgreSQL: exactly N attempts, then 429 with Retry-After."""

from __future__ import annotations

import asyncpg
import httpx

from tests.factories import make_account


async def test_per_account_login_limit_survives_rotating_ips(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    account = await make_account(client, owner_conn, "target@example.com")
    # make_account's own login was attempt 1 of 5 on this account
    for attempt in range(2, 6):
        response = await client.post(
            "/api/v1/auth/login",
            json={"email": account.email, "password": f"guess number {attempt}"},
            headers={"X-Forwarded-For": f"198.51.100.{attempt}"},  # a new IP each time
        )
        assert response.status_code == 401, attempt
    blocked = await client.post(
        "/api/v1/auth/login",
        json={"email": account.email, "password": account.password},  # even the right one
        headers={"X-Forwarded-For": "192.0.2.99"},
    )
    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/problem+json"
    retry_after = int(blocked.headers["retry-after"])
    assert 0 < retry_after <= 900


async def test_per_ip_login_limit(client: httpx.AsyncClient) -> None:
    statuses = []
    for n in range(21):
        response = await client.post(
            "/api/v1/auth/login",
            json={"email": f"user{n}@example.com", "password": "whatever-it-is"},
            headers={"X-Forwarded-For": "198.51.100.200"},
        )
        statuses.append(response.status_code)
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429


async def test_password_reset_limit_per_account(client: httpx.AsyncClient) -> None:
    codes = [
        (
            await client.post(
                "/api/v1/auth/password-reset",
                json={"email": "r@example.com"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            )
        ).status_code
        for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]


async def test_limits_are_configurable(
    settings: object, fresh_db: object, tmp_path: object
) -> None:
    from pathlib import Path

    from dreamer.app import create_app
    from tests.harness import ClonedDatabase, make_settings

    assert isinstance(fresh_db, ClonedDatabase) and isinstance(tmp_path, Path)
    app = create_app(make_settings(fresh_db, tmp_path, rate_limit_register_ip="2/60"))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.50", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        codes = []
        for n in range(3):
            response = await http.post(
                "/api/v1/auth/register",
                json={
                    "email": f"u{n}@example.com",
                    "password": "good long passphrase",
                    "firstName": "A",
                    "lastName": "B",
                },
            )
            codes.append(response.status_code)
    await app.state.db.dispose()
    assert codes == [201, 201, 429]


async def test_registration_limit_per_address(client: httpx.AsyncClient) -> None:
    codes = []
    for n in range(6):
        response = await client.post(
            "/api/v1/auth/register",
            json={
                "email": "same@example.com",
                "password": "good long passphrase",
                "firstName": "A",
                "lastName": "B",
            },
            headers={"X-Forwarded-For": f"198.51.100.{n + 30}"},
        )
        codes.append(response.status_code)
    assert codes == [201, 409, 409, 409, 409, 429]
