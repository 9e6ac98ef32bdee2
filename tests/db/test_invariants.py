"""Invariants the database enforces whatever the application does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.factories import act_as
from tests.harness import ClonedDatabase
from tests.security.test_policies import World, build_world


@pytest.fixture
async def world(owner_conn: asyncpg.Connection) -> World:
    return await build_world(owner_conn)


START = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)


async def _book(
    conn: asyncpg.Connection,
    world: World,
    start: datetime,
    minutes: int = 60,
    buffer: int = 0,
    status: str = "pending",
) -> uuid.UUID:
    value: uuid.UUID = await conn.fetchval(
        "insert into service_bookings (user_id, service_id, scheduled_at, duration_minutes, "
        "buffer_minutes, status) values ($1, $2, $3, $4, $5, $6) returning id",
        world.a,
        world.rows["services"],
        start,
        minutes,
        buffer,
        status,
    )
    return value


async def test_overlapping_active_bookings_are_impossible(
    owner_conn: asyncpg.Connection, world: World
) -> None:
    await _book(owner_conn, world, START)
    with pytest.raises(asyncpg.ExclusionViolationError):
        await _book(owner_conn, world, START + timedelta(minutes=30))
    # back to back is fine; the range is half-open
    await _book(owner_conn, world, START + timedelta(minutes=60))


async def test_buffer_extends_the_blocked_range(
    owner_conn: asyncpg.Connection, world: World
) -> None:
    await _book(owner_conn, world, START, buffer=15)
    with pytest.raises(asyncpg.ExclusionViolationError):
        await _book(owner_conn, world, START + timedelta(minutes=70))
    await _book(owner_conn, world, START + timedelta(minutes=75))


async def test_cancelled_bookings_free_the_slot(
    owner_conn: asyncpg.Connection, world: World
) -> None:
    first = await _book(owner_conn, world, START)
    await owner_conn.execute(
        "update service_bookings set status = 'cancelled' where id = $1", first
    )
    await _book(owner_conn, world, START)
    cancelled_at = await owner_conn.fetchval(
        "select cancelled_at from service_bookings where id = $1", first
    )
    assert cancelled_at is not None


LEGAL = {
    ("pending", "confirmed"),
    ("pending", "cancelled"),
    ("confirmed", "completed"),
    ("confirmed", "cancelled"),
    ("confirmed", "no_show"),
}
STATUSES = ("pending", "confirmed", "cancelled", "completed", "no_show")


@pytest.mark.parametrize("old", STATUSES)
@pytest.mark.parametrize("new", STATUSES)
async def test_booking_status_transitions(
    owner_conn: asyncpg.Connection, world: World, old: str, new: str
) -> None:
    if old == new:
        return
    booking = await _book(owner_conn, world, START, status=old)
    update = owner_conn.execute(
        "update service_bookings set status = $2 where id = $1", booking, new
    )
    if (old, new) in LEGAL:
        await update
        sequence = await owner_conn.fetchval(
            "select sequence from service_bookings where id = $1", booking
        )
        assert sequence == 1
    else:
        with pytest.raises(asyncpg.CheckViolationError, match="illegal booking status"):
            await update


async def test_email_unique_case_insensitively(
    owner_conn: asyncpg.Connection, world: World
) -> None:
    with pytest.raises(asyncpg.UniqueViolationError):
        await owner_conn.execute(
            "insert into users (email, first_name, last_name) values ('A@Example.COM', 'x', 'y')"
        )


@pytest.mark.parametrize(
    "sql",
    [
        "insert into testimonials (client_name, content, rating) values ('x', 'y', 6)",
        "insert into testimonials (client_name, content, rating) values ('x', 'y', 0)",
        "insert into users (email, first_name, last_name) values ('not-an-email', 'x', 'y')",
        "insert into services (name, slug) values ('x', 'Bad Slug')",
        "insert into leads (email, status) values ('l@example.com', 'lost')",
        "insert into chat_messages (conversation_id, role, content) "
        "select id, 'robot', 'x' from chat_conversations limit 1",
        "insert into case_studies (title, slug, status) values ('t', 'pub', 'published')",
    ],
)
async def test_check_constraints(owner_conn: asyncpg.Connection, world: World, sql: str) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        await owner_conn.execute(sql)


# -- who may change account fields (users_guard) ------------------------------------------------


async def _attempt(conn: asyncpg.Connection, sql: str, *args: object) -> bool:
    try:
        async with conn.transaction():
            await conn.execute(sql, *args)
    except asyncpg.InsufficientPrivilegeError:
        return False
    return True


@pytest.mark.parametrize(
    ("actor", "target", "new_role", "allowed"),
    [
        ("a", "a", "admin", False),  # nobody promotes themselves
        ("a", "a", "visitor", False),
        ("admin", "b", "admin", False),  # only super_admin grants staff roles
        ("admin", "b", "visitor", True),  # staff may move clients/visitors
        ("admin", "super_admin", "client", False),
        ("super_admin", "b", "admin", True),
        ("super_admin", "admin", "client", True),
    ],
)
async def test_role_changes(
    app_conn: asyncpg.Connection,
    world: World,
    actor: str,
    target: str,
    new_role: str,
    allowed: bool,
) -> None:
    ids = {"a": world.a, "b": world.b, "admin": world.admin, "super_admin": world.super_admin}
    roles = {"a": "client", "admin": "admin", "super_admin": "super_admin"}
    async with app_conn.transaction():
        await act_as(
            app_conn, user_id=ids[actor], role=roles[actor], session_id=world.session(ids[actor])
        )
        ok = await _attempt(
            app_conn, "update users set role = $2 where id = $1", ids[target], new_role
        )
    assert ok is allowed


async def test_users_cannot_verify_or_reactivate_themselves(
    app_conn: asyncpg.Connection, world: World
) -> None:
    async with app_conn.transaction():
        await act_as(app_conn, user_id=world.a, role="client", session_id=world.session(world.a))
        for change in (
            "status = 'suspended'",
            "email_verified = false",
            "login_count = 99",
            "email = 'new@example.com'",
        ):
            assert not await _attempt(app_conn, f"update users set {change} where id = $1", world.a)
        assert await _attempt(app_conn, "update users set phone = '123' where id = $1", world.a)


async def test_registration_cannot_choose_role_or_status(
    app_conn: asyncpg.Connection, world: World
) -> None:
    async with app_conn.transaction():
        await act_as(app_conn)
        insert = (
            "insert into users (email, first_name, last_name, {col}) "
            "values ('r@example.com', 'R', 'R', {value})"
        )
        for col, value in (("role", "'admin'"), ("status", "'active'"), ("email_verified", "true")):
            assert not await _attempt(app_conn, insert.format(col=col, value=value))
        assert await _attempt(
            app_conn,
            "insert into users (email, first_name, last_name) values ('r@example.com', 'R', 'R')",
        )
        # a password hash is written by the credential path's role only
        assert not await _attempt(
            app_conn,
            "insert into users (email, first_name, last_name, password_hash) "
            "values ('h@example.com', 'H', 'H', 'argon-hash')",
        )


async def test_auth_credentials_reads_the_hash_for_the_auth_role_only(
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    fresh_db: ClonedDatabase,
    world: World,
) -> None:
    await owner_conn.execute("update users set password_hash = 'H' where id = $1", world.a)
    auth = await asyncpg.connect(fresh_db.auth_url)
    try:
        row = await auth.fetchrow("select * from auth_credentials('  A@example.com ')")
    finally:
        await auth.close()
    assert row is not None and row["user_id"] == world.a and row["password_hash"] == "H"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.fetchrow("select * from auth_credentials('a@example.com')")
