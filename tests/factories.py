"""Builders shared by the tests: accounts (through the real API), signed-in headers minted
straight in the database, and requests made as a given caller."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

import asyncpg
import httpx


async def act_as(
    conn: asyncpg.Connection,
    *,
    user_id: uuid.UUID | None = None,
    role: str = "anonymous",
    visitor_id: str | None = None,
    session_id: uuid.UUID | None = None,
) -> None:
    """Establish the request context inside the current transaction, as the API does: through
    ``app_begin``, which checks the session (a signed-in caller needs a live one)."""
    established = await conn.fetchval(
        "select app_begin($1, $2, $3, $4, null, null, null)",
        user_id,
        session_id,
        role,
        visitor_id,
    )
    assert established, "app_begin refused the context: no live session for this user and role"


PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    id: uuid.UUID
    email: str
    access: str
    refresh: str
    password: str = PASSWORD

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


async def make_account(
    client: httpx.AsyncClient,
    owner: asyncpg.Connection,
    email: str,
    *,
    role: str = "client",
    status: str = "active",
    password: str = PASSWORD,
) -> Account:
    """Register through the API, then give the account its role and status as the owner."""
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": password, "firstName": "Test", "lastName": "User"},
    )
    assert response.status_code == 201, response.text
    user_id = uuid.UUID(response.json()["data"]["user"]["id"])
    await owner.execute(
        "update users set role = $2, status = 'active', email_verified = true where id = $1",
        user_id,
        role,
    )
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    data = login.json()["data"]
    if status != "active":
        await owner.execute("update users set status = $2 where id = $1", user_id, status)
    return Account(user_id, email, data["accessToken"], data["refreshToken"], password)


async def signed_in_headers(
    owner: asyncpg.Connection, secret: str, email: str, role: str
) -> dict[str, str]:
    """A signed-in account made directly in the database (no API calls, no rate limits)."""
    from dreamer.core.security import encode_access_token

    user_id = await owner.fetchval(
        "insert into users (email, first_name, last_name, role, status, email_verified) "
        "values ($1, 'T', 'U', $2, 'active', true) returning id",
        email,
        role,
    )
    session_id = await owner.fetchval(
        "insert into user_sessions (user_id, session_token, expires_at) "
        "values ($1, $2, now() + interval '1 day') returning id",
        user_id,
        secrets.token_hex(32),
    )
    token = encode_access_token(
        secret, user_id=user_id, role=role, session_id=session_id, ttl=dt.timedelta(minutes=30)
    )
    return {"Authorization": f"Bearer {token}"}
