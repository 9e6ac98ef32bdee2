"""The request context reaches PostgreSQL only as bound parameters, from trusted sources.

Client A cannot become client B through anything the API reads from a request: a forged or
tampered token is refused, and headers that flow into the context (user agent, visitor id,
forwarded-for, request id) are data, never SQL.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from dreamer.core.http import client_ip, normalise_visitor_id, parse_networks
from dreamer.core.security import encode_access_token
from dreamer.db.session import Database, RequestContext, StaleIdentity
from tests.harness import ClonedDatabase

SECRET = "test-secret-" + "x" * 40
A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
B = uuid.UUID("00000000-0000-4000-8000-00000000000b")
INJECTION = f"x', true), set_config('app.user_id', '{B}', true), set_config('a.b', 'y"


async def _user_with_session(conn: asyncpg.Connection, user_id: uuid.UUID) -> uuid.UUID:
    await conn.execute(
        "insert into users (id, email, first_name, last_name, role, status) "
        "values ($1, $2, 'F', 'L', 'client', 'active')",
        user_id,
        f"{user_id.hex[-4:]}@example.com",
    )
    value: uuid.UUID = await conn.fetchval(
        "insert into user_sessions (user_id, session_token, expires_at) "
        "values ($1, $2, now() + interval '1 day') returning id",
        user_id,
        user_id.hex,
    )
    return value


async def test_context_values_are_parameters_not_sql(
    fresh_db: ClonedDatabase, owner_conn: asyncpg.Connection
) -> None:
    session_id = await _user_with_session(owner_conn, A)
    await _user_with_session(owner_conn, B)
    db = Database(fresh_db.app_url, pool_size=1)
    try:
        ctx = RequestContext(
            user_id=A,
            role="client",
            user_agent=INJECTION,
            visitor_id=INJECTION,
            request_id=INJECTION,
            session_id=session_id,
        )
        async with db.transaction(ctx) as session:
            row = (
                await session.execute(
                    text(
                        "select current_setting('app.user_id') as uid,"
                        " current_setting('app.user_agent') as ua"
                    )
                )
            ).one()
        assert row.uid == str(A)
        assert row.ua == INJECTION
        # a context whose session does not belong to the user is refused outright
        with pytest.raises(StaleIdentity):
            async with db.transaction(replace(ctx, user_id=B)):
                pass
        # a context whose session does not belong to the user is refused outright
        with pytest.raises(StaleIdentity):
            async with db.transaction(replace(ctx, user_id=B)):
                pass
        # and the settings do not outlive the transaction on the pooled connection
        async with db.engine.connect() as conn:
            assert await conn.scalar(text("select current_setting('app.user_id', true)")) in (
                "",
                None,
            )
    finally:
        await db.dispose()


# {"alg": "none"} with B as subject and role admin, unsigned.
ALG_NONE = (
    "eyJhbGciOiJub25lIn0."
    "eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGIiLCJyb2xlIjoiYWRtaW4ifQ."
)


def _token(user: uuid.UUID, role: str = "client", secret: str = SECRET) -> str:
    return encode_access_token(
        secret, user_id=user, role=role, session_id=None, ttl=timedelta(minutes=5)
    )


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_token(B, secret="another-secret-" + "y" * 40), id="wrong-key"),
        pytest.param(ALG_NONE, id="alg-none"),
        pytest.param(_token(A)[:-4] + "AAAA", id="tampered-signature"),
        pytest.param(
            encode_access_token(
                SECRET, user_id=B, role="client", session_id=None, ttl=timedelta(minutes=-1)
            ),
            id="expired",
        ),
        pytest.param(_token(B, role="root"), id="unknown-role"),
    ],
)
async def test_forged_tokens_are_refused(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get("/api/v1/services", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_headers_cannot_smuggle_sql_into_the_context(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    response = await client.get(
        "/api/v1/services",
        headers={
            "User-Agent": INJECTION,
            "X-Visitor-Id": INJECTION,
            "X-Forwarded-For": f"{INJECTION}, 10.0.0.1",
            "X-Request-Id": INJECTION,
        },
    )
    assert response.status_code == 200


def test_visitor_ids_are_normalised_or_refused() -> None:
    assert normalise_visitor_id("3F2504E0-4F89-11D3-9A0C-0305E82C3301") == (
        "3f2504e04f8911d39a0c0305e82c3301"
    )
    assert normalise_visitor_id(INJECTION) is None
    assert normalise_visitor_id("") is None


def test_forwarded_for_is_trusted_only_from_configured_proxies() -> None:
    proxies = parse_networks(["10.0.0.0/8"])
    assert client_ip("203.0.113.9", "198.51.100.1", proxies) == "203.0.113.9"
    assert client_ip("10.0.0.2", "198.51.100.1", proxies) == "198.51.100.1"
    assert client_ip("10.0.0.2", "198.51.100.1, 10.1.1.1", proxies) == "198.51.100.1"
    assert client_ip("10.0.0.2", "evil, 198.51.100.1", proxies) == "198.51.100.1"
    assert client_ip("10.0.0.2", "garbage", proxies) == "10.0.0.2"
    assert client_ip("10.0.0.2", "198.51.100.1", ()) == "10.0.0.2"


async def _staff(conn: asyncpg.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    admin = uuid.uuid4()
    await conn.execute(
        "insert into users (id, email, first_name, last_name, role, status) "
        "values ($1, 'boss@example.com', 'B', 'O', 'super_admin', 'active')",
        admin,
    )
    session: uuid.UUID = await conn.fetchval(
        "insert into user_sessions (user_id, session_token, expires_at) "
        "values ($1, 'x', now() + interval '1 day') returning id",
        admin,
    )
    return admin, session


async def test_a_bare_set_config_gives_the_anonymous_view(
    owner_conn: asyncpg.Connection, app_conn: asyncpg.Connection
) -> None:
    admin, _ = await _staff(owner_conn)
    await _user_with_session(owner_conn, A)
    async with app_conn.transaction():
        await app_conn.execute(
            "select set_config('app.user_id', $1, true),"
            " set_config('app.role', 'super_admin', true)",
            str(admin),
        )
        assert await app_conn.fetchval("select app_user_id()") is None
        assert await app_conn.fetchval("select app_role()") == "anonymous"
        assert not await app_conn.fetchval("select app_is_staff()")
        assert await app_conn.fetchval("select count(*) from users") == 0
        assert await app_conn.fetchval("select count(*) from audit_logs") == 0


async def test_a_signature_from_one_transaction_is_worthless_in_the_next(
    owner_conn: asyncpg.Connection, app_conn: asyncpg.Connection
) -> None:
    admin, session = await _staff(owner_conn)
    begin = "select app_begin($1, $2, 'super_admin', null, null, null, null)"
    async with app_conn.transaction():
        assert await app_conn.fetchval(begin, admin, session)
        assert await app_conn.fetchval("select app_is_staff()")
        stolen = await app_conn.fetchval("select current_setting('app.identity')")
        assert await app_conn.fetchval("select count(*) from users") == 1
    async with app_conn.transaction():
        await app_conn.execute(
            "select set_config('app.user_id', $1, true),"
            " set_config('app.role', 'super_admin', true), set_config('app.identity', $2, true)",
            str(admin),
            stolen,
        )
        assert await app_conn.fetchval("select app_user_id()") is None
        assert await app_conn.fetchval("select count(*) from users") == 0


async def test_the_app_role_cannot_read_the_identity_key(app_conn: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.fetch("select * from app_secrets")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.fetchval("select app_identity_mac('x', 'super_admin')")


async def test_a_temporary_table_cannot_shadow_the_users_table(
    owner_conn: asyncpg.Connection, app_conn: asyncpg.Connection
) -> None:
    await _user_with_session(owner_conn, A)
    async with app_conn.transaction():
        await app_conn.execute(
            "create temporary table users (id uuid, role text, status text, email text)"
        )
        await app_conn.execute(
            "insert into pg_temp.users values ($1, 'super_admin', 'active', 'x')", A
        )
        await app_conn.execute(
            "select set_config('app.user_id', $1, true),"
            " set_config('app.role', 'super_admin', true)",
            str(A),
        )
        assert not await app_conn.fetchval("select app_is_super_admin()")


async def test_own_profile_is_one_statement_that_checks_the_session(
    owner_conn: asyncpg.Connection, app_conn: asyncpg.Connection
) -> None:
    """own_profile(): the session check and the read in one statement, as the caller, and
    nothing of that context left on the connection afterwards."""
    session_a = await _user_with_session(owner_conn, A)
    session_b = await _user_with_session(owner_conn, B)
    own = "select id from own_profile($1, $2, $3, null, null, null, null)"
    assert await app_conn.fetchval(own, A, session_a, "client") == A
    # another's id with one's own session, a made-up session, a role the account lacks: nothing
    assert await app_conn.fetchval(own, B, session_a, "client") is None
    assert await app_conn.fetchval(own, A, uuid.uuid4(), "client") is None
    assert await app_conn.fetchval(own, B, session_b, "super_admin") is None
    await owner_conn.execute("update user_sessions set revoked_at = now() where id = $1", session_b)
    assert await app_conn.fetchval(own, B, session_b, "client") is None
    # the context was local to that statement
    assert await app_conn.fetchval("select app_user_id()") is None
    assert await app_conn.fetchval("select count(*) from users") == 0
