"""Every SECURITY DEFINER function, called as the app role the way an SQL injection (or a leaked
DATABASE_URL) could call it: with no context, as an anonymous visitor and as a client, with the
super_admin's id and address and an attacker's address for arguments. None may return a secret,
change another user's credentials or sessions, or mail an address of the caller's choosing; the
functions that read or write credentials are not executable by the app role at all."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import pytest

from tests.factories import act_as

ATTACKER = "attacker@evil.example"
CREDENTIAL_FUNCTIONS = {
    "auth_credentials",
    "auth_session_by_token",
    "auth_create_session",
    "auth_rotate_session",
    "auth_record_login",
    "auth_own_password_hash",
    "auth_set_own_password",
    "auth_verify_email",
    "auth_reset_password",
    "app_identity_mac",
}
TEMPLATES = ["password_reset", "verify_email", "password_changed", "booking_confirmed", "lead_new"]


async def _definer_functions(owner: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await owner.fetch(
        """
        select p.oid, p.proname, p.oid::regprocedure::text as signature,
               coalesce(p.proargnames, '{}') as names,
               array(select format_type(t, null) from unnest(p.proargtypes) t) as types,
               has_function_privilege('dreamer_app', p.oid, 'EXECUTE') as callable,
               p.prorettype = 'trigger'::regtype as is_trigger
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.prosecdef
        order by p.proname
        """
    )
    return rows


def _values(name: str, type_: str, admin: uuid.UUID) -> list[object]:
    if "template" in name:
        return list(TEMPLATES)
    if type_ == "uuid":
        return [admin]
    if type_ == "text":
        if "email" in name or name in ("p_to",):
            return ["boss@example.com", ATTACKER]
        if "hash" in name or "token" in name:
            return ["f" * 64]
        return [ATTACKER]
    return [
        {
            "jsonb": '{"email": "attacker@evil.example", "to": "attacker@evil.example"}',
            "timestamp with time zone": dt.datetime.now(dt.UTC),
            "integer": 0,
            "boolean": True,
            "inet": "203.0.113.9",
            "regclass": "users",
            "text[]": ["super_admin"],
        }.get(type_)
    ]


async def _state(owner: asyncpg.Connection, admin: uuid.UUID) -> tuple[object, ...]:
    row = await owner.fetchrow(
        """
        select (select password_hash from users where id = $1) as hash,
               (select count(*) from user_sessions where user_id = $1) as sessions,
               (select count(*) from user_sessions where user_id = $1 and revoked_at is null)
                   as live,
               (select string_agg(session_token, ',' order by id) from user_sessions
                where user_id = $1) as tokens,
               (select count(*) from mail_outbox where to_address = $2) as attacker_mail,
               (select count(*) from mail_outbox where user_id = $1
                and template in ('password_reset', 'verify_email', 'password_changed'))
                   as account_mail
        """,
        admin,
        ATTACKER,
    )
    assert row is not None
    return tuple(row)


@pytest.mark.parametrize("context", ["none", "anonymous", "client"])
async def test_no_definer_function_hands_the_app_role_an_account(
    owner_conn: asyncpg.Connection, app_conn: asyncpg.Connection, context: str
) -> None:
    admin = await owner_conn.fetchval(
        "insert into users (email, first_name, last_name, role, status, email_verified,"
        " password_hash) values ('boss@example.com', 'B', 'O', 'super_admin', 'active', true,"
        " '$argon2id$v=19$m=65536,t=3,p=2$c2VjcmV0$secret-hash-of-the-boss') returning id"
    )
    await owner_conn.execute(
        "insert into user_sessions (user_id, session_token, expires_at)"
        " values ($1, 'token-digest-of-the-boss', now() + interval '1 day')",
        admin,
    )
    client = await owner_conn.fetchval(
        "insert into users (email, first_name, last_name, role, status) "
        "values ('c@example.com', 'C', 'L', 'client', 'active') returning id"
    )
    client_session = await owner_conn.fetchval(
        "insert into user_sessions (user_id, session_token, expires_at)"
        " values ($1, 'client-token', now() + interval '1 day') returning id",
        client,
    )
    functions = await _definer_functions(owner_conn)
    assert len(functions) > 20
    exposed = [
        f["proname"] for f in functions if f["proname"] in CREDENTIAL_FUNCTIONS and f["callable"]
    ]
    assert exposed == []
    before = await _state(owner_conn, admin)
    called = 0
    for function in functions:
        if not function["callable"] or function["is_trigger"]:
            continue
        names = list(function["names"]) or [f"a{i}" for i in range(len(function["types"]))]
        choices = [_values(n, t, admin) for n, t in zip(names, function["types"], strict=False)]
        combos: list[list[object]] = [[]]
        for options in choices:
            combos = [[*c, o] for c in combos for o in options]
        for args in combos:
            placeholders = ", ".join(f"${i + 1}::{t}" for i, t in enumerate(function["types"]))
            sql = f"select x::text from {function['proname']}({placeholders}) x"
            try:
                async with app_conn.transaction():
                    if context == "anonymous":
                        await act_as(app_conn, visitor_id="v" * 32)
                    elif context == "client":
                        await act_as(
                            app_conn, user_id=client, role="client", session_id=client_session
                        )
                    result = str(await app_conn.fetch(sql, *args))
            except asyncpg.PostgresError:
                continue
            called += 1
            assert "secret-hash-of-the-boss" not in result, function["signature"]
            assert "token-digest-of-the-boss" not in result, function["signature"]
            assert await _state(owner_conn, admin) == before, (function["signature"], args)
    assert called > 10
