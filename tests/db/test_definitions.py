"""``db/sql/`` is the one definition of functions, triggers, policies and grants; drift shows."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from dreamer.db import definitions, migrate
from tests.harness import ClonedDatabase

# The secret columns, written out: the app role can neither read, write nor insert them (a new
# account's password hash is inserted by the credential path's role, dreamer_auth).
SECRET_COLUMNS = {
    ("users", "password_hash"),
    ("users", "email_verification_token"),
    ("users", "password_reset_token"),
    ("user_sessions", "session_token"),
    ("newsletter_subscriptions", "confirmation_token"),
    ("newsletter_subscriptions", "unsubscribe_token"),
}
# The one secret the app role may insert (never read or change): the unsubscribe digest of a
# subscriber that staff import (a digest of a signed token, made by the service).
INSERTABLE_SECRETS = {("newsletter_subscriptions", "unsubscribe_token")}
# Tables the app role cannot touch at all, each for a reason (it reaches them through functions).
NO_APP_ACCESS = {
    "alembic_version": "readiness reads schema_version()",
    "schema_definitions": "bookkeeping of the definitions step",
    "app_secrets": "the identity MAC key",
    "refresh_token_history": "written by the auth functions only",
    "rate_limits": "counted by rate_limit_hit()",
    "newsletter_suppressions": "hashes, checked by newsletter_is_suppressed()",
    "lead_rollup": "kept by the lead_rollup_* triggers, read through lead_stats()",
    "lead_contact_rollup": "kept by the lead_rollup_* triggers, read through lead_stats()",
    "analytics_salts": "the daily salts of the visitor hashes, used by analytics_ingest()",
    "analytics_visits": "today's visitor hashes, kept by analytics_ingest()",
    "report_stale": "the days the report_stale_* triggers mark, emptied by report_refresh()",
}


async def test_the_migrated_database_matches_the_files(owner_conn: asyncpg.Connection) -> None:
    assert await definitions.definition_drift(owner_conn) == []


async def test_every_sql_file_is_listed_and_applied(owner_conn: asyncpg.Connection) -> None:
    files = definitions.sql_files()
    recorded = dict(await owner_conn.fetch("select name, checksum from schema_definitions"))
    assert recorded == {
        **{f.name: f.checksum for f in files},
        definitions.ALL_FILES: definitions.combined_checksum(files),
    }


async def test_a_function_changed_by_hand_is_drift(owner_conn: asyncpg.Connection) -> None:
    await owner_conn.execute(
        "create or replace function email_hash(p_email text) returns text "
        "language sql immutable parallel safe return 'x'"
    )
    problems = await definitions.definition_drift(owner_conn)
    assert len(problems) == 1
    assert problems[0].startswith("function email_hash(text): differs from db/sql/")


async def test_a_policy_changed_or_added_by_hand_is_drift(owner_conn: asyncpg.Connection) -> None:
    await owner_conn.execute("alter policy app_select on services using (true)")
    await owner_conn.execute("create policy peek on leads for select to dreamer_app using (true)")
    problems = await definitions.definition_drift(owner_conn)
    assert [p.split(":")[0] for p in problems] == [
        "policy leads.peek",
        "policy services.app_select",
    ]
    assert "in no file of db/sql/" in problems[0]


async def test_a_grant_or_rls_flag_changed_by_hand_is_drift(
    owner_conn: asyncpg.Connection,
) -> None:
    await owner_conn.execute("grant select on audit_logs to public")
    await owner_conn.execute("revoke update (phone) on users from dreamer_app")
    await owner_conn.execute("grant execute on function claim_due_reminders(timestamptz) to public")
    await owner_conn.execute("alter table testimonials no force row level security")
    problems = [p.split(":")[0] for p in await definitions.definition_drift(owner_conn)]
    assert problems == [
        "column grant users.phone to dreamer_app",
        "function claim_due_reminders(timestamp with time zone)",
        "grant audit_logs to PUBLIC",
        "rls testimonials",
    ]


async def test_a_function_no_file_defines_is_drift(owner_conn: asyncpg.Connection) -> None:
    await owner_conn.execute("create function leftover() returns int language sql return 1")
    problems = await definitions.definition_drift(owner_conn)
    assert problems == ["function leftover(): in the database, in no file of db/sql/"]


async def test_the_check_leaves_the_database_as_it_was(owner_conn: asyncpg.Connection) -> None:
    await owner_conn.execute("create policy peek on leads for select to dreamer_app using (true)")
    assert await definitions.definition_drift(owner_conn) != []
    assert (
        await owner_conn.fetchval("select count(*) from pg_policies where policyname = 'peek'") == 1
    )


def _cli(db: ClonedDatabase, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": db.app_url,
        "DATABASE_OWNER_URL": db.owner_url,
        "DREAMER_ENV": "test",
    }
    dreamer = Path(sys.executable).with_name("dreamer")
    return subprocess.run(
        [str(dreamer), "migrate", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_migrate_check_fails_on_drift_and_reapply_repairs_it(
    fresh_db: ClonedDatabase, owner_conn: asyncpg.Connection
) -> None:
    assert (await asyncio.to_thread(_cli, fresh_db, "--check")).returncode == 0
    await owner_conn.execute("alter policy app_select on services using (true)")
    failed = await asyncio.to_thread(_cli, fresh_db, "--check")
    assert failed.returncode == 1
    assert "policy services.app_select: differs from db/sql/" in failed.stderr
    # An unchanged checksum skips the step; --reapply runs it anyway.
    await asyncio.to_thread(migrate.upgrade, fresh_db.owner_url)
    assert await definitions.definition_drift(owner_conn) != []
    await asyncio.to_thread(migrate.upgrade, fresh_db.owner_url, reapply=True)
    assert await definitions.definition_drift(owner_conn) == []


async def test_grants_cover_every_column_but_the_secrets(owner_conn: asyncpg.Connection) -> None:
    columns = await owner_conn.fetch(
        """
        select c.relname as tbl, a.attname as col,
               has_column_privilege('dreamer_app', c.oid, a.attnum, 'SELECT') as readable,
               has_column_privilege('dreamer_app', c.oid, a.attnum, 'SELECT, UPDATE, REFERENCES')
                   as any_privilege,
               has_column_privilege('dreamer_app', c.oid, a.attnum, 'INSERT') as insertable
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
        """
    )
    tables = {c["tbl"] for c in columns}
    assert {(c["tbl"], c["col"]) for c in columns} >= SECRET_COLUMNS
    assert set(NO_APP_ACCESS) <= tables
    secret_reachable = [
        (c["tbl"], c["col"])
        for c in columns
        if (c["tbl"], c["col"]) in SECRET_COLUMNS and c["any_privilege"]
    ]
    assert secret_reachable == []
    secret_insertable = {
        (c["tbl"], c["col"])
        for c in columns
        if (c["tbl"], c["col"]) in SECRET_COLUMNS and c["insertable"]
    }
    assert secret_insertable == INSERTABLE_SECRETS
    unreadable = [
        (c["tbl"], c["col"])
        for c in columns
        if (c["tbl"], c["col"]) not in SECRET_COLUMNS
        and c["tbl"] not in NO_APP_ACCESS
        and not c["readable"]
    ]
    assert unreadable == []
    reachable = {c["tbl"] for c in columns if c["any_privilege"]} & set(NO_APP_ACCESS)
    assert reachable == set()


# A view runs as its owner: it reads past the table's policies and column grants. Each one the
# app role may read is listed here, with the table it shows and why that is safe.
# (None today. A view gated by `WHERE (SELECT app_is_staff())` is not enough: on the nullable
# side of an outer join the gate becomes a join filter, and the caller's ON clause runs on
# every row before it.)
APP_VIEWS: dict[str, str] = {}


async def test_every_view_the_app_reads_is_reviewed(owner_conn: asyncpg.Connection) -> None:
    views = await owner_conn.fetch(
        """
        select c.relname, array_agg(distinct t.relname) as tables
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        join pg_rewrite r on r.ev_class = c.oid
        join pg_depend d on d.objid = r.oid and d.classid = 'pg_rewrite'::regclass
        join pg_class t on t.oid = d.refobjid and t.oid <> c.oid
        where n.nspname = 'public' and c.relkind in ('v', 'm')
          and has_table_privilege('dreamer_app', c.oid, 'SELECT')
        group by c.relname
        """
    )
    assert {v["relname"] for v in views} == set(APP_VIEWS)
    secret_tables = {table for table, _column in SECRET_COLUMNS}
    assert [v["relname"] for v in views if secret_tables & set(v["tables"])] == []


def test_sql_files_and_their_order_agree() -> None:
    names = [f.name for f in definitions.sql_files()]
    assert names == list(definitions.SQL_FILES)
    assert names[0] == "core"


def test_sql_files_define_no_function_twice() -> None:
    texts = "\n".join(f.text for f in definitions.sql_files())
    defined = [
        line.split("(")[0].split()[-1]
        for line in texts.splitlines()
        if line.startswith("CREATE OR REPLACE FUNCTION")
    ]
    assert len(defined) == len(set(defined))
    assert len(defined) == 79
    assert all("CREATE FUNCTION" not in line for line in texts.splitlines())
