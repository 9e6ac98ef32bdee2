"""Brute-force limits kept in PostgreSQL: exactly N attempts, then 429 with Retry-After."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from dreamer.core.config import Settings
from tests.factories import make_account


async def _login(
    client: httpx.AsyncClient, email: str, password: str, ip: str, **cookies: str
) -> httpx.Response:
    client.cookies.clear()  # each attempt is a browser of its own
    for name, value in cookies.items():
        client.cookies.set(name, value)
    return await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": ip},
    )


async def test_failures_from_one_ip_lock_that_ip_out_of_that_account_only(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    account = await make_account(client, owner_conn, "target@example.com")
    attacker = "198.51.100.66"
    codes = [
        (await _login(client, account.email, f"guess {n}", attacker)).status_code for n in range(6)
    ]
    assert codes == [401] * 5 + [429]
    blocked = await _login(client, account.email, account.password, attacker)
    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/problem+json"
    assert 0 < int(blocked.headers["retry-after"]) <= 900
    # the owner, from their own network, is not locked out by the attacker's failures
    owner = await _login(client, account.email, account.password, "192.0.2.10")
    assert owner.status_code == 200, owner.text


async def test_a_distributed_attack_slows_the_account_but_not_a_known_device(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, settings: Settings
) -> None:
    account = await make_account(client, owner_conn, "wanted@example.com")
    # the owner's browser signed in before and kept its device cookie
    earlier = await _login(client, account.email, account.password, "192.0.2.10")
    device = earlier.cookies.get("dreamer_device")
    assert device and earlier.status_code == 200
    limit = int(settings.rate_limit_login_account.split("/")[0])
    for n in range(limit):  # one guess from each of many addresses
        await _login(client, account.email, f"guess {n}", f"198.51.{n // 250}.{n % 250}")
    stranger = await _login(client, account.email, account.password, "192.0.2.77")
    assert stranger.status_code == 429  # the account as such is throttled now ...
    known = await _login(
        client, account.email, account.password, "192.0.2.10", dreamer_device=device
    )
    assert known.status_code == 200, known.text  # ... but not for the device that knows it
    forged = await _login(
        client, account.email, account.password, "192.0.2.78", dreamer_device="abc.def"
    )
    assert forged.status_code == 429  # a made-up cookie counts as none


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

    from dreamer.app import close_pools, create_app
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
    await close_pools(app)
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


async def test_the_bucket_as_the_app_role_sees_it(app_conn: asyncpg.Connection) -> None:
    """Bursts of the limit, fractional costs, refusals not counted, and no way for a caller to
    widen, reset or read a bucket."""
    hit = "select rate_limit_hit($1, $2, $3, $4)"
    assert [await app_conn.fetchval(hit, "k", 4, 3600, 1.0) for _ in range(4)] == [0] * 4
    refused = await app_conn.fetchval(hit, "k", 4, 3600, 1.0)
    assert 890 <= refused <= 900  # one hit drains in window / limit
    assert await app_conn.fetchval(hit, "k", 4, 3600, 0.25) > 0  # refusals add nothing ...
    again = await app_conn.fetchval(hit, "k", 4, 3600, 1.0)
    assert refused - 1 <= again <= refused  # ... so nothing grows
    halves = [await app_conn.fetchval(hit, "q", 2, 60, 0.5) for _ in range(5)]
    assert halves[:4] == [0] * 4 and 14 <= halves[4] <= 15
    for limit, window, cost in (
        (0, 60, 1),
        (5, 0, 1),
        (5, 86401, 1),
        (5, 60, 0),
        (5, 60, -1),
        (5, 60, 6),
        (5, 60, None),
    ):
        with pytest.raises(asyncpg.InvalidParameterValueError):
            await app_conn.fetchval(hit, "k", limit, window, cost)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.fetch("select * from rate_limits")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.execute("delete from rate_limits")
