"""The audit trail: written by the database in the same transaction, secrets redacted."""

from __future__ import annotations

import json

import asyncpg
import pytest

from tests.factories import act_as
from tests.security.test_policies import World, build_world


@pytest.fixture
async def world(owner_conn: asyncpg.Connection) -> World:
    return await build_world(owner_conn)


async def _set_request(conn: asyncpg.Connection, ip: str, agent: str) -> None:
    await conn.execute(
        "select set_config('app.ip', $1, true), set_config('app.user_agent', $2, true),"
        " set_config('app.request_id', 'req-123456', true)",
        ip,
        agent,
    )


async def test_changes_are_recorded_with_actor_and_request(
    app_conn: asyncpg.Connection, owner_conn: asyncpg.Connection, world: World
) -> None:
    async with app_conn.transaction():
        await act_as(
            app_conn, user_id=world.admin, role="admin", session_id=world.session(world.admin)
        )
        await _set_request(app_conn, "198.51.100.4", "pytest-agent")
        await app_conn.execute(
            "update services set name = 'Renamed', sort_order = 5 where id = $1",
            world.rows["services"],
        )
    row = await owner_conn.fetchrow(
        "select * from audit_logs where entity_id = $1 and action = 'update'",
        world.rows["services"],
    )
    assert row is not None
    assert row["user_id"] == world.admin
    assert row["entity_type"] == "services"
    assert str(row["ip_address"]) == "198.51.100.4"
    assert row["user_agent"] == "pytest-agent"
    old, new = json.loads(row["old_values"]), json.loads(row["new_values"])
    assert set(new) == {"name", "sort_order"} and new["name"] == "Renamed"
    assert old["name"] == "Live"
    assert json.loads(row["metadata"])["request_id"] == "req-123456"


async def test_rolled_back_changes_leave_no_audit_row(
    app_conn: asyncpg.Connection, owner_conn: asyncpg.Connection, world: World
) -> None:
    before = await owner_conn.fetchval("select count(*) from audit_logs")
    transaction = app_conn.transaction()
    await transaction.start()
    await act_as(app_conn, user_id=world.admin, role="admin", session_id=world.session(world.admin))
    await app_conn.execute("delete from testimonials where id = $1", world.rows["testimonials"])
    await transaction.rollback()
    assert await owner_conn.fetchval("select count(*) from audit_logs") == before


async def test_secrets_are_redacted(
    app_conn: asyncpg.Connection, owner_conn: asyncpg.Connection, world: World
) -> None:
    # (as the owner: the app role cannot write secret columns at all)
    await owner_conn.execute(
        "insert into users (email, first_name, last_name, password_hash, "
        "email_verification_token) values ('s@example.com', 'S', 'S', 'argon2-secret', "
        "'token-digest')"
    )
    row = await owner_conn.fetchrow(
        "select new_values::text as doc from audit_logs where entity_type = 'users' "
        "and new_values->>'email' = 's@example.com'"
    )
    assert row is not None
    assert "argon2-secret" not in row["doc"] and "token-digest" not in row["doc"]
    doc = json.loads(row["doc"])
    assert doc["password_hash"] == "[redacted]" and doc["email_verification_token"] == "[redacted]"
    assert doc["email"] == "s@example.com"


async def test_noise_only_updates_are_not_audited(
    owner_conn: asyncpg.Connection, world: World
) -> None:
    before = await owner_conn.fetchval("select count(*) from audit_logs")
    await owner_conn.execute(
        "update user_sessions set last_used_at = now() + interval '1 minute' where id = $1",
        world.rows["user_sessions"],
    )
    await owner_conn.execute(
        "update services set name = name where id = $1", world.rows["services"]
    )
    assert await owner_conn.fetchval("select count(*) from audit_logs") == before


async def test_app_role_cannot_forge_or_erase_audit_rows(
    app_conn: asyncpg.Connection, world: World
) -> None:
    await act_as(app_conn, user_id=world.admin, role="admin", session_id=world.session(world.admin))
    for sql in (
        "insert into audit_logs (action, entity_type) values ('update', 'users')",
        "update audit_logs set action = 'x'",
        "delete from audit_logs",
        "truncate audit_logs",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_conn.execute(sql)


async def test_events_enter_through_record_audit_event(
    app_conn: asyncpg.Connection, owner_conn: asyncpg.Connection, world: World
) -> None:
    async with app_conn.transaction():
        await act_as(app_conn)
        await app_conn.execute(
            "select record_audit_event('auth.login_failed', 'users', null, $1::jsonb)",
            json.dumps({"email": "a@example.com", "password": "hunter22"}),
        )
    meta = await owner_conn.fetchval(
        "select metadata::text from audit_logs where action = 'auth.login_failed'"
    )
    assert "hunter22" not in meta and "a@example.com" in meta
    with pytest.raises(asyncpg.InvalidParameterValueError):
        await app_conn.execute("select record_audit_event('update', 'users', null)")
