"""Profiles (no mass assignment) and the browser cookie mode with CSRF protection."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.factories import PASSWORD, make_account


async def _row(owner: asyncpg.Connection, user_id: object) -> dict[str, object]:
    row = await owner.fetchrow(
        "select id, role, status, email_verified, email, first_name, phone from users "
        "where id = $1",
        user_id,
    )
    assert row is not None
    return dict(row)


async def test_profile_read_and_update(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    account = await make_account(client, owner_conn, "me@example.com")
    profile = await client.get("/api/v1/users/profile", headers=account.auth)
    assert profile.json()["data"]["email"] == "me@example.com"
    updated = await client.put(
        "/api/v1/users/profile",
        headers=account.auth,
        json={"firstName": "Ada", "phone": "+44 20 7946 0000", "job_title": "CTO"},
    )
    assert updated.status_code == 200
    data = updated.json()["data"]
    assert (data["firstName"], data["phone"], data["jobTitle"]) == (
        "Ada",
        "+44 20 7946 0000",
        "CTO",
    )


@pytest.mark.parametrize(
    "field",
    [
        {"role": "admin"},
        {"status": "active"},
        {"emailVerified": True},
        {"email_verified": True},
        {"id": "00000000-0000-4000-8000-000000000001"},
        {"email": "other@example.com"},
    ],
)
async def test_profile_update_refuses_privileged_fields(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, field: dict[str, object]
) -> None:
    account = await make_account(client, owner_conn, "mass@example.com")
    before = await _row(owner_conn, account.id)
    response = await client.put(
        "/api/v1/users/profile", headers=account.auth, json={"firstName": "Changed", **field}
    )
    assert response.status_code == 422
    assert await _row(owner_conn, account.id) == before


@pytest.mark.parametrize(
    "field", [{"role": "admin"}, {"status": "active"}, {"emailVerified": True}, {"id": "x"}]
)
async def test_registration_refuses_privileged_fields(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, field: dict[str, object]
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "sneaky@example.com",
            "password": PASSWORD,
            "firstName": "S",
            "lastName": "N",
            **field,
        },
    )
    assert response.status_code == 422
    assert await owner_conn.fetchval("select count(*) from users") == 0


async def test_cookie_mode_with_csrf(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    await make_account(client, owner_conn, "browser@example.com")
    client.cookies.clear()
    login = await client.post(
        "/api/v1/auth/login",
        json={"email": "browser@example.com", "password": PASSWORD, "useCookies": True},
    )
    assert login.status_code == 200
    assert login.json()["data"]["refreshToken"] is None
    set_cookie = login.headers.get_list("set-cookie")
    assert any(
        c.startswith("dreamer_rt=") and "HttpOnly" in c and "Path=/api/v1/auth" in c
        for c in set_cookie
    )
    assert any(c.startswith("dreamer_at=") and "HttpOnly" in c for c in set_cookie)
    csrf = client.cookies["dreamer_csrf"]

    assert (await client.get("/api/v1/users/profile")).status_code == 200
    forged = await client.put("/api/v1/users/profile", json={"firstName": "Evil"})
    assert forged.status_code == 403
    allowed = await client.put(
        "/api/v1/users/profile", json={"firstName": "Good"}, headers={"X-CSRF-Token": csrf}
    )
    assert allowed.status_code == 200

    no_csrf_refresh = await client.post("/api/v1/auth/refresh")
    assert no_csrf_refresh.status_code == 403
    refreshed = await client.post("/api/v1/auth/refresh", headers={"X-CSRF-Token": csrf})
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["data"]["refreshToken"] is None
    logout = await client.post(
        "/api/v1/auth/logout", headers={"X-CSRF-Token": client.cookies["dreamer_csrf"]}
    )
    assert logout.status_code == 200


async def test_a_planted_csrf_cookie_does_not_work(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    """A sibling subdomain can set a cookie for the parent domain, so the double submit alone
    could be beaten by planting a known value; it must be the session's own."""
    await make_account(client, owner_conn, "planted@example.com")
    client.cookies.clear()
    login = await client.post(
        "/api/v1/auth/login",
        json={"email": "planted@example.com", "password": PASSWORD, "useCookies": True},
    )
    assert login.status_code == 200
    genuine, access = client.cookies["dreamer_csrf"], client.cookies["dreamer_at"]
    client.cookies.clear()
    client.cookies.set("dreamer_at", access)
    client.cookies.set("dreamer_csrf", "attacker-chosen-value")
    planted = await client.put(
        "/api/v1/users/profile",
        json={"firstName": "Evil"},
        headers={"X-CSRF-Token": "attacker-chosen-value"},
    )
    assert planted.status_code == 403
    assert "belong to this session" in planted.json()["detail"]
    client.cookies.set("dreamer_csrf", genuine)
    honest = await client.put(
        "/api/v1/users/profile", json={"firstName": "Good"}, headers={"X-CSRF-Token": genuine}
    )
    assert honest.status_code == 200, honest.text
