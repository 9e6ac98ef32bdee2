"""Staff user management: filters, search, cursor pages, status and role changes."""

from __future__ import annotations

import asyncpg
import httpx

from tests.factories import Account, make_account


async def _staff(client: httpx.AsyncClient, owner: asyncpg.Connection) -> tuple[Account, Account]:
    admin = await make_account(client, owner, "admin@example.com", role="admin")
    boss = await make_account(client, owner, "boss@example.com", role="super_admin")
    return admin, boss


async def test_list_filter_search_and_paginate(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    admin, _ = await _staff(client, owner_conn)
    for n in range(5):
        await make_account(client, owner_conn, f"client{n}@example.com")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, "role": "client"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/admin/users", params=params, headers=admin.auth)).json()
        seen += [u["email"] for u in page["data"]]
        cursor = page["meta"]["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"client{n}@example.com" for n in range(5)]
    found = await client.get("/api/v1/admin/users", params={"q": "CLIENT3"}, headers=admin.auth)
    assert [u["email"] for u in found.json()["data"]] == ["client3@example.com"]
    bad = await client.get("/api/v1/admin/users", params={"cursor": "%%%"}, headers=admin.auth)
    assert bad.status_code == 400


async def test_suspension_ends_sessions_at_once(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    admin, _ = await _staff(client, owner_conn)
    victim = await make_account(client, owner_conn, "victim@example.com")
    response = await client.patch(
        f"/api/v1/admin/users/{victim.id}", headers=admin.auth, json={"status": "suspended"}
    )
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "suspended"
    assert (await client.get("/api/v1/users/profile", headers=victim.auth)).status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refreshToken": victim.refresh})
    ).status_code == 401
    audited = await owner_conn.fetchval(
        "select count(*) from audit_logs where entity_id = $1 and action = 'update' "
        "and new_values->>'status' = 'suspended'",
        victim.id,
    )
    assert audited == 1


async def test_only_super_admin_grants_staff_roles(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    admin, boss = await _staff(client, owner_conn)
    user = await make_account(client, owner_conn, "rise@example.com")
    refused = await client.patch(
        f"/api/v1/admin/users/{user.id}", headers=admin.auth, json={"role": "admin"}
    )
    assert refused.status_code == 403
    to_client = await client.patch(
        f"/api/v1/admin/users/{user.id}", headers=admin.auth, json={"role": "visitor"}
    )
    assert to_client.status_code == 200
    granted = await client.patch(
        f"/api/v1/admin/users/{user.id}", headers=boss.auth, json={"role": "admin"}
    )
    assert granted.status_code == 200 and granted.json()["data"]["role"] == "admin"
    # the promoted user's old token carries the old role: refused until they refresh
    assert (await client.get("/api/v1/users/profile", headers=user.auth)).status_code == 401
    refreshed = await client.post("/api/v1/auth/refresh", json={"refreshToken": user.refresh})
    new_auth = {"Authorization": f"Bearer {refreshed.json()['data']['accessToken']}"}
    assert (await client.get("/api/v1/admin/users", headers=new_auth)).status_code == 200
    own = await client.patch(
        f"/api/v1/admin/users/{boss.id}", headers=boss.auth, json={"status": "inactive"}
    )
    assert own.status_code == 409


async def test_staff_opt_in_to_receive_leads(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    admin, boss = await _staff(client, owner_conn)
    opted = await client.patch(
        f"/api/v1/admin/users/{admin.id}", headers=boss.auth, json={"acceptsLeads": True}
    )
    assert opted.status_code == 200 and opted.json()["data"]["acceptsLeads"] is True
    client_account = await make_account(client, owner_conn, "notstaff@example.com")
    refused = await client.patch(
        f"/api/v1/admin/users/{client_account.id}", headers=boss.auth, json={"acceptsLeads": True}
    )
    assert refused.status_code == 422
    await client.post("/api/v1/contact", json={"name": "L", "email": "l@example.com"})
    assert await owner_conn.fetchval("select assigned_to from leads") == admin.id


async def test_an_upgrade_to_client_keeps_the_session_every_other_change_ends_it(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    visitor = await make_account(client, owner_conn, "up@example.com", role="visitor")
    profile = "/api/v1/users/profile"
    await owner_conn.execute("update users set role = 'client' where id = $1", visitor.id)
    assert (await client.get(profile, headers=visitor.auth)).status_code == 200
    refreshed = await client.post("/api/v1/auth/refresh", json={"refreshToken": visitor.refresh})
    assert refreshed.status_code == 200
    as_client = {"Authorization": f"Bearer {refreshed.json()['token']}"}
    assert (await client.get(profile, headers=as_client)).status_code == 200
    # a downgrade applies at once (the first token carried visitor, so it still fits)
    await owner_conn.execute("update users set role = 'visitor' where id = $1", visitor.id)
    assert (await client.get(profile, headers=as_client)).status_code == 401
    assert (await client.get(profile, headers=visitor.auth)).status_code == 200
    # a staff role granted ends the session too (it must be signed in or refreshed as staff)
    again = await client.post(
        "/api/v1/auth/refresh", json={"refreshToken": refreshed.json()["data"]["refreshToken"]}
    )
    assert again.status_code == 200
    fresh = {"Authorization": f"Bearer {again.json()['token']}"}
    await owner_conn.execute("update users set role = 'admin' where id = $1", visitor.id)
    assert (await client.get(profile, headers=fresh)).status_code == 401
    # and a suspension ends even an otherwise valid session
    await owner_conn.execute("update users set role = 'visitor' where id = $1", visitor.id)
    assert (await client.get(profile, headers=fresh)).status_code == 200
    await owner_conn.execute("update users set status = 'suspended' where id = $1", visitor.id)
    assert (await client.get(profile, headers=fresh)).status_code == 401
