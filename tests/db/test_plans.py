"""The plans of the key queries, on a generated data set: no sequential scan of a big table.

A database is filled by ``dreamer bench generate``'s generator (scale 0.05: 500 users, 5k
leads, 25k activities, 1k bookings, 50k audit entries) and set up with ``auto_explain``
(every statement, nested ones inside the SECURITY DEFINER functions too, its plan sent to the
client as a notice). The real endpoints then run through the app, as the app and auth roles,
and every plan they produced is walked. The planner runs with ``enable_seqscan = off``, so it
takes a sequential scan only where no index can serve: a ``Seq Scan`` of one of the big
tables (one holding rows) means a query whose cost grows with the table — a missing index,
or a query written so that no index applies. (How well the plans hold up at scale 1 and 10
is measured by ``make bench``.)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event

from dreamer.core.security import Argon2Params, Passwords
from dreamer.seed.scale import EMAIL_DOMAIN, PASSWORD, Plan, generate
from tests.harness import Cluster, clone_database, drop_database, make_settings

# the tables that grow with the business (audit_logs through its partitions)
BIG = (
    "users",
    "user_sessions",
    "leads",
    "lead_activities",
    "service_bookings",
    "audit_logs",
    "content_pages",
    "case_studies",
    "testimonials",
    "content_revisions",
    "chat_conversations",
    "chat_messages",
    "chat_usage",
)
# More content for the public reads than the generator's 100 items at this scale: a site with
# a large archive.
CONTENT = """
insert into content_pages (title, slug, page_type, content, status, published_at)
select 'Page ' || g, 'plan-page-' || g,
       (case when g % 3 = 0 then 'blog' else 'custom' end)::page_type,
       jsonb_build_object('blocks', jsonb_build_array(jsonb_build_object(
           'type', 'paragraph', 'text', 'Notes number ' || g || ' on planning and delivery'))),
       'published', now() - make_interval(mins => g)
from generate_series(1, 3000) g;
insert into case_studies (title, slug, industry, challenge, status, published_at, sort_order)
select 'Study ' || g, 'plan-study-' || g, (array['Retail', 'Logistics', 'Health'])[1 + g % 3],
       'A challenge in operations ' || g, 'published', now() - make_interval(mins => g), g % 7
from generate_series(1, 3000) g;
insert into testimonials (client_name, content, status, published_at, is_featured, sort_order)
select 'Client ' || g, 'Working together on delivery ' || g, 'published',
       now() - make_interval(mins => g), g % 10 = 0, g % 5
from generate_series(1, 3000) g;
update content_pages set title = 'Forecasting guide' where slug = 'plan-page-42';
analyze content_pages, case_studies, testimonials, content_revisions;
"""
SLUG = "ai-strategy-consultation"


# An index scan may filter what its conditions cannot: a few rows per page. One that discards
# more read rows only to throw them away, which grows with the table (an index walked from its
# start because the filter could not be an index condition, as enum equality under a policy
# that reads columns cannot).
MAX_FILTERED = 500


def _big(relation: str) -> bool:
    return any(relation == t or relation.startswith(f"{t}_") for t in BIG)


def _scans(node: dict[str, Any]) -> Iterator[str]:
    if node.get("Node Type") == "Seq Scan" and _big(str(node.get("Relation Name", ""))):
        yield str(node["Relation Name"])
    for child in node.get("Plans", []):
        yield from _scans(child)


# The editorial tables hold thousands of items, not millions, and the public reads of them
# are cached: their lists filter by page type, industry or status, which under the public
# policy (it reads columns) cannot be index conditions (enum equality and lower() are not
# leakproof), so they are left to the Seq Scan check alone.
EDITORIAL = ("content_pages", "case_studies", "testimonials", "content_revisions")


def _wasteful(node: dict[str, Any]) -> Iterator[str]:
    relation = str(node.get("Relation Name", ""))
    removed = int(node.get("Rows Removed by Filter", 0))
    big = _big(relation) and not relation.startswith(EDITORIAL)
    if "Scan" in str(node.get("Node Type")) and big and removed > MAX_FILTERED:
        index = node.get("Index Name", "-")
        yield f"{node['Node Type']} on {relation} ({index}) read and discarded {removed} rows"
    for child in node.get("Plans", []):
        yield from _wasteful(child)


class Plans:
    """The plans auto_explain sent on every connection the app opened."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.label = ""

    def listen(self, conn: asyncpg.Connection) -> None:
        conn.add_log_listener(self._notice)

    def _notice(self, _conn: object, message: asyncpg.PostgresLogMessage) -> None:
        text = str(message.message)
        if "plan:" not in text:
            return
        plan = json.loads(text[text.index("{") :])
        self.seen.append((self.label, plan))

    def seq_scans(self, empty: set[str]) -> list[str]:
        found = []
        for label, plan in self.seen:
            for relation in set(_scans(plan["Plan"])) - empty:
                query = " ".join(str(plan.get("Query Text", "")).split())[-400:]
                found.append(f"{label}: Seq Scan on {relation}\n    {query}")
        return found

    def filtering_scans(self) -> list[str]:
        found = []
        for label, plan in self.seen:
            waste = "".join(_wasteful(plan["Plan"]))
            if waste:
                query = " ".join(str(plan.get("Query Text", "")).split())[-400:]
                found.append(f"{label}: {waste}\n    {query}")
        return found


@pytest.fixture
async def scaled(cluster: Cluster, tmp_path: Path) -> AsyncIterator[tuple[Any, Plans]]:
    from dreamer.seed.runner import run_seed

    db = await clone_database(cluster)
    try:
        settings = make_settings(db, tmp_path, public_cache=False)
        await run_seed(settings, db.owner_url, demo=False, only_if_empty=False)
        cheap = Passwords(Argon2Params(time_cost=1, memory_cost=1024, parallelism=1))
        await generate(db.owner_url, Plan.at(0.05), seed=7, password_hash=cheap.hash(PASSWORD))
        admin = await asyncpg.connect(cluster.superuser_url)
        try:
            for setting, value in (
                ("session_preload_libraries", "auto_explain"),
                ("auto_explain.log_min_duration", "0"),
                ("auto_explain.log_nested_statements", "on"),
                ("auto_explain.log_format", "json"),
                ("auto_explain.log_level", "notice"),
                # actual rows (no timing): what each scan read and discarded
                ("auto_explain.log_analyze", "on"),
                ("auto_explain.log_timing", "off"),
                # a sequential scan is then chosen only where no index can serve the query
                ("enable_seqscan", "off"),
            ):
                await admin.execute(f"ALTER DATABASE {db.name} SET {setting} = '{value}'")
        finally:
            await admin.close()
        yield settings, Plans()
    finally:
        await drop_database(cluster, db.name)


# asyncpg warns when a pooled connection still has a listener: ours, on purpose
@pytest.mark.filterwarnings("ignore:.*active log listener")
async def test_key_queries_use_indexes_at_scale(
    scaled: tuple[Any, Plans], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dreamer.app import close_pools, create_app

    settings, plans = scaled
    create_pool = asyncpg.create_pool

    async def listen(conn: asyncpg.Connection) -> None:
        plans.listen(conn)

    def listening_pool(*args: Any, **kwargs: Any) -> Any:
        # the raw readers' pool: listen on every acquire (a release drops the listener)
        return create_pool(*args, setup=listen, **kwargs)

    monkeypatch.setattr(asyncpg, "create_pool", listening_pool)  # as reader.py calls it
    app = create_app(settings)
    for db in (app.state.db, app.state.auth_db):
        for engine in (db.engine, db.reader):
            event.listen(
                engine.sync_engine,
                "connect",
                lambda dbapi, _record: plans.listen(dbapi.driver_connection),
            )
    owner = await asyncpg.connect(str(settings.database_owner_url))
    try:
        staff_email = await owner.fetchval(
            "select email from users where role = 'super_admin' and email like $1",
            f"%@{EMAIL_DOMAIN}",
        )
        heavy = await owner.fetchrow(
            "select u.email, count(*) from users u join service_bookings b on b.user_id = u.id"
            " where u.role = 'client' and u.status = 'active' group by u.email"
            " order by 2 desc limit 1"
        )
        lead_id = await owner.fetchval("select id from leads order by created_at desc limit 1")
        chatter = await owner.fetchrow(  # the longest anonymous conversation
            "select c.id, c.session_id from chat_conversations c"
            " join chat_messages m on m.conversation_id = c.id where c.user_id is null"
            " group by c.id order by count(*) desc limit 1"
        )
        regular = await owner.fetchrow(  # the client with the most conversations
            "select u.id, u.email from users u join chat_conversations c on c.user_id = u.id"
            " where u.role = 'client' and u.status = 'active' group by u.id"
            " order by count(*) desc limit 1"
        )
        await owner.execute(CONTENT)
        day = await owner.fetchval(
            "select date_trunc('day', scheduled_at) from service_bookings"
            " group by 1 order by count(*) desc limit 1"
        )
    finally:
        await owner.close()
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:

        async def call(label: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
            plans.label = label
            response = await http.request(method, url, **kwargs)
            assert response.status_code < 300, f"{label}: {response.status_code} {response.text}"
            return response

        async def login(email: str) -> dict[str, Any]:
            body = {"email": email, "password": PASSWORD}
            data: dict[str, Any] = (
                await call("login", "POST", "/api/v1/auth/login", json=body)
            ).json()["data"]
            return data

        staff = await login(staff_email)
        client = await login(heavy["email"])
        await call(
            "refresh", "POST", "/api/v1/auth/refresh", json={"refreshToken": client["refreshToken"]}
        )
        as_staff = {"Authorization": f"Bearer {staff['accessToken']}"}
        as_client = {"Authorization": f"Bearer {client['accessToken']}"}
        await call("service by slug", "GET", f"/api/v1/services/{SLUG}")
        start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
        await call(
            "availability",
            "GET",
            f"/api/v1/services/{SLUG}/availability",
            params={"from": start.isoformat(), "to": (start + dt.timedelta(days=14)).isoformat()},
        )
        await call("own profile", "GET", "/api/v1/users/profile", headers=as_client)
        await call("own bookings", "GET", "/api/v1/bookings", headers=as_client)
        listed = await call(
            "lead list",
            "GET",
            "/api/v1/leads",
            params={"status": "qualified", "source": "website", "limit": 20},
            headers=as_staff,
        )
        cursor = listed.json()["meta"]["nextCursor"]
        await call(
            "lead list, next page",
            "GET",
            "/api/v1/leads",
            params={"status": "qualified", "source": "website", "limit": 20, "cursor": cursor},
            headers=as_staff,
        )
        for sort in ("-score", "-lastActivityAt"):
            await call(
                f"lead list by {sort}",
                "GET",
                "/api/v1/leads",
                params={"sort": sort},
                headers=as_staff,
            )
        await call(
            "lead search", "GET", "/api/v1/leads", params={"q": "lovelace"}, headers=as_staff
        )
        # a term no lead holds: PostgreSQL estimates it at 0.5 % of the rows
        await call(
            "lead search, no match",
            "GET",
            "/api/v1/leads",
            params={"q": "nobody@nowhere.example"},
            headers=as_staff,
        )
        await call("lead stats", "GET", "/api/v1/leads/stats", headers=as_staff)
        await call("lead timeline", "GET", f"/api/v1/leads/{lead_id}/activities", headers=as_staff)
        await call(
            "audit by entity",
            "GET",
            "/api/v1/admin/audit",
            params={"entityType": "leads", "entityId": str(lead_id)},
            headers=as_staff,
        )
        await call("page by slug", "GET", "/api/v1/pages/plan-page-42")
        await call("page list", "GET", "/api/v1/pages", params={"type": "blog", "page": 3})
        await call("case-study list", "GET", "/api/v1/case-studies", params={"page": 2})
        await call("case studies by industry", "GET", "/api/v1/case-studies?industry=retail")
        await call("testimonials", "GET", "/api/v1/testimonials", params={"featured": "true"})
        await call("site search", "GET", "/api/v1/search", params={"q": "forecasting guide"})
        as_regular = {"Authorization": f"Bearer {(await login(regular['email']))['accessToken']}"}
        await call("own conversations", "GET", "/api/v1/chat/conversations", headers=as_regular)
        visitor = {"X-Visitor-Id": chatter["session_id"]}
        await call(
            "a long conversation",
            "GET",
            f"/api/v1/chat/conversations/{chatter['id']}",
            headers=visitor,
        )
        await call(
            "a chat turn in it",
            "POST",
            f"/api/v1/chat/conversations/{chatter['id']}/messages",
            json={"content": "How much does a forecasting project cost?"},
            headers=visitor,
        )
        # (Not the staff's unfiltered list: its page is in index order, but its total counts
        # every conversation; docs/PERFORMANCE.md, "Not done yet".)
        await call(
            "staff: a user's conversations",
            "GET",
            "/api/v1/admin/chat/conversations",
            params={"userId": str(regular["id"])},
            headers=as_staff,
        )
        await call("staff: chat usage", "GET", "/api/v1/admin/chat/usage", headers=as_staff)
        # (Not the staff's list by status: under an RLS policy that reads columns, PostgreSQL
        # may not use a non-leakproof operator, such as enum equality, as an index condition.
        # An editorial back office holds thousands of items, not millions: a scan is fine.)
        await call(
            "bookings by day",
            "GET",
            "/api/v1/bookings",
            params={"from": day.isoformat(), "to": (day + dt.timedelta(days=1)).isoformat()},
            headers=as_staff,
        )
    await close_pools(app)
    labels = {label for label, _plan in plans.seen}
    assert len(labels) >= 15, f"auto_explain reported plans for only {sorted(labels)}"
    owner = await asyncpg.connect(str(settings.database_owner_url))
    try:  # partitions of months to come hold nothing: scanning them costs nothing
        empty = {
            r["relname"]
            for r in await owner.fetch(
                "select c.relname from pg_class c join pg_inherits i on i.inhrelid = c.oid"
                " where c.reltuples <= 0"
            )
        }
    finally:
        await owner.close()
    scans = plans.seq_scans(empty)
    assert not scans, "\n".join(scans)
    waste = plans.filtering_scans()
    assert not waste, "\n".join(waste)
