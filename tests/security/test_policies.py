"""Row Level Security per table and per actor, exercised as dreamer_app.

Fixture data (written as the owner): clients A and B, an admin, a super_admin, and in every
table a row that belongs to A (or is public/non-public content). Each check runs in a
transaction that is rolled back, with the request context set exactly as the API sets it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import pytest

from tests.factories import act_as

VISITOR = "a" * 32
OTHER_VISITOR = "b" * 32


@dataclass(frozen=True)
class World:
    a: uuid.UUID
    b: uuid.UUID
    admin: uuid.UUID
    super_admin: uuid.UUID
    rows: dict[str, uuid.UUID]
    sessions: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)

    def session(self, user_id: uuid.UUID) -> uuid.UUID:
        return self.sessions[user_id]

    def user_of(self, actor: str) -> uuid.UUID:
        return {
            "client_a": self.a,
            "client_b": self.b,
            "admin": self.admin,
            "super_admin": self.super_admin,
        }[actor]


async def _user(conn: asyncpg.Connection, email: str, role: str) -> uuid.UUID:
    value: uuid.UUID = await conn.fetchval(
        "insert into users (email, first_name, last_name, role, status, email_verified) "
        "values ($1, 'F', 'L', $2, 'active', true) returning id",
        email,
        role,
    )
    return value


async def build_world(conn: asyncpg.Connection) -> World:
    a = await _user(conn, "a@example.com", "client")
    b = await _user(conn, "b@example.com", "client")
    admin = await _user(conn, "admin@example.com", "admin")
    sup = await _user(conn, "super@example.com", "super_admin")
    rows: dict[str, uuid.UUID] = {}
    one = conn.fetchval
    rows["user_sessions"] = await one(
        "insert into user_sessions (user_id, session_token, expires_at) "
        "values ($1, 'h1', now() + interval '1 day') returning id",
        a,
    )
    rows["services"] = await one(
        "insert into services (name, slug) values ('Live', 'live') returning id"
    )
    rows["services_inactive"] = await one(
        "insert into services (name, slug, is_active) values ('Old', 'old', false) returning id"
    )
    rows["service_bookings"] = await one(
        "insert into service_bookings (user_id, service_id, scheduled_at, duration_minutes) "
        "values ($1, $2, now() + interval '3 days', 60) returning id",
        a,
        rows["services"],
    )
    rows["leads"] = await one(
        "insert into leads (user_id, email) values ($1, 'a@example.com') returning id", a
    )
    rows["lead_activities"] = await one(
        "insert into lead_activities (lead_id, activity_type) values ($1, 'note') returning id",
        rows["leads"],
    )
    rows["case_studies"] = await one(
        "insert into case_studies (title, slug, status, published_at) "
        "values ('P', 'p', 'published', now() - interval '1 hour') returning id"
    )
    rows["case_studies_draft"] = await one(
        "insert into case_studies (title, slug) values ('D', 'd') returning id"
    )
    rows["case_studies_expired"] = await one(
        "insert into case_studies (title, slug, status, published_at, expires_at) values"
        " ('E', 'e', 'published', now() - interval '2 days', now() - interval '1 hour')"
        " returning id"
    )
    rows["testimonials"] = await one(
        "insert into testimonials (client_name, content, status, published_at)"
        " values ('C', 'Great', 'published', now() - interval '1 hour') returning id"
    )
    rows["testimonials_inactive"] = await one(
        "insert into testimonials (client_name, content, status) values ('C', 'Hm', 'archived') "
        "returning id"
    )
    rows["content_pages"] = await one(
        "insert into content_pages (title, slug, content, status, published_at) "
        "values ('H', 'home', '{}', 'published', now() - interval '1 hour') returning id"
    )
    rows["content_pages_draft"] = await one(
        "insert into content_pages (title, slug, content) values ('X', 'x', '{}') returning id"
    )
    rows["content_pages_scheduled"] = await one(
        "insert into content_pages (title, slug, content, status, published_at) "
        "values ('S', 's', '{}', 'published', now() + interval '1 day') returning id"
    )
    rows["content_pages_expired"] = await one(
        "insert into content_pages (title, slug, content, status, published_at, expires_at)"
        " values ('Ex', 'ex', '{}', 'published', now() - interval '2 days',"
        " now() - interval '1 minute') returning id"
    )
    rows["content_pages_archived"] = await one(
        "insert into content_pages (title, slug, content, status) "
        "values ('A', 'a', '{}', 'archived') returning id"
    )
    rows["content_pages_expiring"] = await one(
        "insert into content_pages (title, slug, content, status, published_at, expires_at)"
        " values ('Soon', 'soon', '{}', 'published', now() - interval '1 day',"
        " now() + interval '1 day') returning id"
    )
    rows["content_revisions"] = await one(  # written by the insert's trigger
        "select id from content_revisions where entity_id = $1", rows["content_pages"]
    )
    rows["chat_conversations"] = await one(
        "insert into chat_conversations (user_id) values ($1) returning id", a
    )
    rows["chat_messages"] = await one(
        "insert into chat_messages (conversation_id, role, content) values ($1, 'user', 'hi') "
        "returning id",
        rows["chat_conversations"],
    )
    rows["visitor_conversation"] = await one(
        "insert into chat_conversations (session_id) values ($1) returning id", VISITOR
    )
    rows["newsletter_subscriptions"] = await one(
        "insert into newsletter_subscriptions (email, user_id) values ('a@example.com', $1) "
        "returning id",
        a,
    )
    rows["analytics_events"] = await one(
        "insert into analytics_events (user_id, event_type) values ($1, 'page_view') returning id",
        a,
    )
    await conn.execute(
        "insert into audit_logs (user_id, action, entity_type, entity_id) "
        "values ($1, 'auth.login', 'users', $1)",
        a,
    )
    rows["users"] = a
    sessions = {a: rows["user_sessions"]}
    for user in (b, admin, sup):
        sessions[user] = await one(
            "insert into user_sessions (user_id, session_token, expires_at) "
            "values ($1, $2, now() + interval '1 day') returning id",
            user,
            f"world-{user}",
        )
    return World(a, b, admin, sup, rows, sessions)


@pytest.fixture
async def world(owner_conn: asyncpg.Connection) -> World:
    return await build_world(owner_conn)


@pytest.fixture
async def tx(app_conn: asyncpg.Connection, world: World) -> AsyncIterator[asyncpg.Connection]:
    transaction = app_conn.transaction()
    await transaction.start()
    yield app_conn
    await transaction.rollback()


ACTORS = ("anonymous", "visitor", "client_a", "client_b", "admin", "super_admin")


async def become(conn: asyncpg.Connection, world: World, actor: str) -> None:
    if actor == "anonymous":
        await act_as(conn)
    elif actor == "visitor":
        await act_as(conn, visitor_id=VISITOR)
    else:
        user = world.user_of(actor)
        role = {"client_a": "client", "client_b": "client"}.get(actor, actor)
        await act_as(conn, user_id=user, role=role, session_id=world.session(user))


# table (fixture row key) -> the actors who can SELECT that row.
STAFF = {"admin", "super_admin"}
PUBLIC = set(ACTORS)
READ = {
    "users": {"client_a"} | STAFF,
    "user_sessions": {"client_a"} | STAFF,
    "services": PUBLIC,
    "services_inactive": STAFF,
    "service_bookings": {"client_a"} | STAFF,
    "leads": {"client_a"} | STAFF,
    "lead_activities": STAFF,
    "case_studies": PUBLIC,
    "case_studies_draft": STAFF,
    "testimonials": PUBLIC,
    "testimonials_inactive": STAFF,
    "content_pages": PUBLIC,
    "content_pages_draft": STAFF,
    "content_pages_scheduled": STAFF,
    "content_pages_expired": STAFF,
    "content_pages_archived": STAFF,
    "content_pages_expiring": PUBLIC,
    "case_studies_expired": STAFF,
    "content_revisions": STAFF,
    "chat_conversations": {"client_a"} | STAFF,
    "chat_messages": {"client_a"} | STAFF,
    "visitor_conversation": {"visitor"} | STAFF,
    "newsletter_subscriptions": {"client_a"} | STAFF,
    "analytics_events": STAFF,
}
TABLE_OF = {
    "services_inactive": "services",
    "case_studies_draft": "case_studies",
    "testimonials_inactive": "testimonials",
    "content_pages_draft": "content_pages",
    "content_pages_scheduled": "content_pages",
    "content_pages_expired": "content_pages",
    "content_pages_archived": "content_pages",
    "content_pages_expiring": "content_pages",
    "case_studies_expired": "case_studies",
    "visitor_conversation": "chat_conversations",
}
# Rows an actor may change (UPDATE and DELETE are checked separately below).
UPDATE = {
    "users": {"client_a"} | STAFF,
    "user_sessions": {"client_a"} | STAFF,
    "services": STAFF,
    "service_bookings": {"client_a"} | STAFF,
    "leads": STAFF,
    "lead_activities": STAFF,
    "case_studies": STAFF,
    "testimonials": STAFF,
    "content_pages": STAFF,
    "chat_conversations": {"client_a"} | STAFF,
    "chat_messages": STAFF,
    "visitor_conversation": {"visitor"} | STAFF,
    "newsletter_subscriptions": {"client_a"} | STAFF,
}
DELETE = {
    "user_sessions": {"client_a"} | STAFF,
    "services_inactive": STAFF,
    "leads": STAFF,
    "lead_activities": STAFF,
    "case_studies_draft": STAFF,
    "testimonials": STAFF,
    "content_pages_draft": STAFF,
    "chat_conversations": {"client_a"} | STAFF,
    "chat_messages": {"client_a"} | STAFF,
    "visitor_conversation": {"visitor"} | STAFF,
    "newsletter_subscriptions": STAFF,
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("key", sorted(READ))
async def test_select(tx: asyncpg.Connection, world: World, key: str, actor: str) -> None:
    await become(tx, world, actor)
    table = TABLE_OF.get(key, key)
    visible = await tx.fetchval(f"select count(*) from {table} where id = $1", world.rows[key])
    assert bool(visible) == (actor in READ[key])


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("key", sorted(UPDATE))
async def test_update(tx: asyncpg.Connection, world: World, key: str, actor: str) -> None:
    await become(tx, world, actor)
    table = TABLE_OF.get(key, key)
    column = {
        "users": "phone",
        "user_sessions": "user_agent",
        "service_bookings": "notes",
        "leads": "company",
        "lead_activities": "description",
        "chat_messages": "model_used",
        "newsletter_subscriptions": "tags",
        "chat_conversations": "title",
    }.get(table, "metadata")
    value = (
        "'[]'::jsonb"
        if column == "tags"
        else ("'{\"x\": 1}'::jsonb" if column == "metadata" else "'changed'")
    )
    status = await tx.execute(
        f"update {table} set {column} = {value} where id = $1", world.rows[key]
    )
    assert (status == "UPDATE 1") == (actor in UPDATE[key])


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("key", sorted(DELETE))
async def test_delete(tx: asyncpg.Connection, world: World, key: str, actor: str) -> None:
    await become(tx, world, actor)
    table = TABLE_OF.get(key, key)
    status = await tx.execute(f"delete from {table} where id = $1", world.rows[key])
    assert (status == "DELETE 1") == (actor in DELETE[key])


async def test_audit_logs_visible_to_own_actor_and_staff(
    tx: asyncpg.Connection, world: World
) -> None:
    await become(tx, world, "client_a")
    own = await tx.fetchval("select count(*) from audit_logs")
    await become(tx, world, "client_b")
    other = await tx.fetchval("select count(*) from audit_logs")
    await become(tx, world, "admin")
    everything = await tx.fetchval("select count(*) from audit_logs")
    assert own == 1 and other == 0 and everything > own


# -- inserts ------------------------------------------------------------------------------------


async def _try(tx: asyncpg.Connection, sql: str, *args: object) -> bool:
    try:
        async with tx.transaction():  # a savepoint: a refusal does not end the test transaction
            await tx.execute(sql, *args)
    except asyncpg.InsufficientPrivilegeError:
        return False
    return True


@pytest.mark.parametrize("actor", ACTORS)
async def test_anyone_may_insert_public_submissions(
    tx: asyncpg.Connection, world: World, actor: str
) -> None:
    await become(tx, world, actor)
    # leads arrive through capture_lead() (spam checks, merging); only staff insert rows directly
    assert await _try(tx, 'select capture_lead(\'{"email": "x@example.com"}\', false)')
    assert await _try(tx, "insert into leads (email) values ('y@example.com')") == (actor in STAFF)
    assert await _try(tx, "insert into newsletter_subscriptions (email) values ('n@example.com')")
    # analytics arrive through analytics_ingest() (hashing, truncation, roll-ups) only
    assert not await _try(tx, "insert into analytics_events (event_type) values ('page_view')")
    assert await _try(
        tx,
        'select analytics_ingest(\'[{"event_type": "page_view", "path": "/"}]\','
        " 'visitor', '203.0.113.0/24', 'Firefox', 'Linux', 'desktop')",
    )


@pytest.mark.parametrize("actor", ACTORS)
async def test_analytics_keeps_its_salts_and_roll_ups_to_itself(
    tx: asyncpg.Connection, world: World, actor: str
) -> None:
    await become(tx, world, actor)
    for table in ("analytics_salts", "analytics_visits"):
        assert not await _try(tx, f"select * from {table}")
    for table in ("analytics_daily", "analytics_daily_sources"):
        assert not await _try(tx, f"delete from {table}")
        assert not await _try(tx, f"insert into {table} (day) values (current_date)")
    assert not await _try(tx, "select analytics_retain(1)")
    # a raw address cannot be stored, even through the function
    with pytest.raises(asyncpg.CheckViolationError, match="analytics_events_network_only"):
        async with tx.transaction():
            await tx.execute(
                "select analytics_ingest('[{\"event_type\": \"page_view\"}]', 'v',"
                " '203.0.113.7', 'Firefox', 'Linux', 'desktop')"
            )


async def test_visitor_may_start_and_write_own_chat(tx: asyncpg.Connection, world: World) -> None:
    await become(tx, world, "visitor")
    conversation = uuid.uuid4()
    assert await _try(
        tx, "insert into chat_conversations (id, session_id) values ($1, $2)", conversation, VISITOR
    )
    assert await _try(
        tx,
        "insert into chat_messages (conversation_id, role, content) values ($1, 'user', 'q')",
        conversation,
    )
    assert not await _try(
        tx, "insert into chat_conversations (session_id) values ($1)", OTHER_VISITOR
    )
    assert not await _try(
        tx,
        "insert into chat_messages (conversation_id, role, content) values ($1, 'user', 'q')",
        world.rows["chat_conversations"],
    )


@pytest.mark.parametrize("actor", ACTORS)
async def test_chat_usage_is_counted_for_the_caller_only(
    tx: asyncpg.Connection, world: World, owner_conn: asyncpg.Connection, actor: str
) -> None:
    await owner_conn.execute(
        "insert into chat_usage (subject, hour, model, messages)"
        " values ('visitor:' || $1, date_trunc('hour', now()), 'm', 7)",
        OTHER_VISITOR,
    )
    await become(tx, world, actor)
    # the ledger: read by staff only, written by no one but its functions
    seen = await tx.fetchval("select count(*) from chat_usage")
    assert (seen > 0) == (actor in STAFF)
    for sql in (
        "insert into chat_usage (subject, hour, model) values ('visitor:x', now(), 'm')",
        "update chat_usage set messages = 0",
        "delete from chat_usage",
    ):
        assert not await _try(tx, sql)
    if actor == "anonymous":  # no one to count for: refused
        with pytest.raises(asyncpg.RaiseError):
            async with tx.transaction():
                await tx.execute("select chat_usage_hit('m', 0, 0, 0)")
        return
    assert await tx.fetchval("select chat_usage_hit('m', 0, 0, 0)") == 0
    await tx.execute("select chat_usage_add('m', -5, 2000000)")  # clamped, never negative
    await become(tx, world, "admin")
    counted = await tx.fetch(
        "select subject, messages, prompt_tokens, completion_tokens from chat_usage"
        " where subject <> 'visitor:' || $1",
        OTHER_VISITOR,
    )
    expected = f"visitor:{VISITOR}" if actor == "visitor" else f"user:{world.user_of(actor)}"
    assert [tuple(r) for r in counted] == [(expected, 1, 0, 1000000)]


@pytest.mark.parametrize("actor", ACTORS)
async def test_only_staff_set_the_chat_prompt(
    tx: asyncpg.Connection, world: World, actor: str
) -> None:
    await become(tx, world, actor)
    allowed = actor in STAFF
    assert await _try(tx, "insert into chat_settings (system_prompt) values ('p')") == allowed
    assert await tx.fetchval("select count(*) from chat_settings") == (1 if allowed else 0)
    if allowed:
        await become(tx, world, "client_a")
        assert await tx.execute("update chat_settings set system_prompt = 'q'") == "UPDATE 0"
        assert await tx.execute("delete from chat_settings") == "DELETE 0"
        assert await tx.fetchval("select system_prompt from chat_settings") == "p"


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [("anonymous", False), ("client_a", True), ("client_b", False), ("admin", True)],
)
async def test_bookings_only_for_oneself(
    tx: asyncpg.Connection, world: World, actor: str, allowed: bool
) -> None:
    await become(tx, world, actor)
    ok = await _try(
        tx,
        "insert into service_bookings (user_id, service_id, scheduled_at, duration_minutes) "
        "values ($1, $2, now() + interval '10 days', 30)",
        world.a,
        world.rows["services"],
    )
    assert ok == allowed


@pytest.mark.parametrize("actor", ["anonymous", "visitor", "client_a"])
async def test_non_staff_cannot_write_content(
    tx: asyncpg.Connection, world: World, actor: str
) -> None:
    await become(tx, world, actor)
    assert not await _try(tx, "insert into services (name, slug) values ('N', 'n')")
    assert not await _try(tx, "insert into case_studies (title, slug) values ('N', 'n')")
    assert not await _try(tx, "insert into testimonials (client_name, content) values ('N', 'n')")
    assert not await _try(
        tx, "insert into content_pages (title, slug, content) values ('N', 'n', '{}')"
    )
    assert not await _try(
        tx,
        "insert into lead_activities (lead_id, activity_type) values ($1, 'x')",
        world.rows["leads"],
    )


async def test_lead_cannot_be_attributed_to_someone_else(
    tx: asyncpg.Connection, world: World
) -> None:
    await become(tx, world, "client_b")
    assert not await _try(
        tx, "insert into leads (email, user_id) values ('x@example.com', $1)", world.a
    )


async def test_claimed_role_without_matching_account_grants_nothing(
    tx: asyncpg.Connection, world: World
) -> None:
    # A bug that claims app.role = 'admin' for client A must not open staff rows: app_begin
    # refuses the claim, and a bare set_config of it is not trusted at all.
    assert not await tx.fetchval(
        "select app_begin($1, $2, 'admin', null, null, null, null)", world.a, world.session(world.a)
    )
    await tx.execute(
        "select set_config('app.user_id', $1, true), set_config('app.role', 'admin', true)",
        str(world.a),
    )
    assert await tx.fetchval("select count(*) from users") == 0
    assert await tx.fetchval("select count(*) from services where not is_active") == 0


ROLE_ACTORS = ("client_a", "client_b", "admin", "super_admin")


@pytest.mark.parametrize("actor", ACTORS)
async def test_only_the_person_or_staff_may_export_or_erase(
    tx: asyncpg.Connection, world: World, actor: str
) -> None:
    await become(tx, world, actor)
    for target in (world.b, world.admin):
        allowed = actor in STAFF and (target != world.admin or actor == "super_admin")
        allowed = allowed or (actor in ROLE_ACTORS and target == world.user_of(actor))
        assert await _try(tx, "select gdpr_export($1)", target) == allowed, (actor, target)
        assert await _try(tx, "select gdpr_erase($1)", target) == allowed, (actor, target)


async def test_a_forged_context_exports_and_erases_nothing(
    tx: asyncpg.Connection, world: World
) -> None:
    # set_config is not app_begin: the identity is not trusted, the caller is anonymous
    await tx.execute(
        "select set_config('app.user_id', $1, true), set_config('app.role', 'super_admin', true)",
        str(world.super_admin),
    )
    assert not await _try(tx, "select gdpr_export($1)", world.super_admin)
    assert not await _try(tx, "select gdpr_erase($1)", world.b)
