"""Catalogue checks: they fail the build when a future migration forgets a safeguard."""

from __future__ import annotations

import re

import asyncpg
import pytest

SECRET_COLUMN = re.compile(r"(^password|_hash$|(^|_)token$|secret)")
# Columns the pattern matches that hold no secret, each for a reason:
NOT_SECRET = {
    "password_reset_expires": "when a reset link expires",
    "visitor_hash": "a visitor's hash salted for one day (the salt is gone after it)",
}
# Tables exempt from the row-level audit trigger, each for a reason:
NOT_ROW_AUDITED = {
    "audit_logs": "it is the trail",
    "analytics_events": "append-only telemetry, not business data",
    "refresh_token_history": "token rotation bookkeeping; auth events are audited explicitly",
    "rate_limits": "counters, rewritten on every attempt",
    "chat_usage": "counters, rewritten on every chat message",
    "analytics_daily": "roll-up counters, rewritten by every analytics batch",
    "analytics_daily_sources": "roll-up counters, rewritten by every analytics batch",
    "report_daily": "business roll-ups, recomputed from the audited tables by report_refresh()",
    "report_daily_leads": "business roll-ups, recomputed from the audited tables",
    "report_daily_revenue": "business roll-ups, recomputed from the audited tables",
    "report_stale": "the days the report triggers mark, emptied by report_refresh()",
    "analytics_visits": "today's visitor hashes (counting each visitor once a day)",
    "analytics_salts": "one random salt a day, deleted after it",
    "gdpr_erasures": "itself the record of an erasure, written once by gdpr_erase()",
    "mail_outbox": "delivery log of changes that are themselves audited",
    "newsletter_suppressions": "hashes only, written with the audited unsubscribe",
    "schema_definitions": "checksums of db/sql/, written by migrations",
    "app_secrets": "the identity key, written once by a migration",
    "cache_topics": "versions of cached reads, bumped along with the (audited) change",
    "lead_rollup": "counts derived from leads (audited), rewritten with each change",
    "lead_contact_rollup": "a histogram derived from leads (audited)",
    "content_revisions": "snapshots of saves that are themselves audited",
    "content_redirects": "former slugs, written with the audited rename",
    "content_views": "view counters, added in batches",
}


async def _tables(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        select c.relname, c.relrowsecurity, c.relforcerowsecurity, c.relispartition
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname <> 'alembic_version'
        """
    )
    return rows


async def test_every_table_has_rls_enabled_and_forced(owner_conn: asyncpg.Connection) -> None:
    tables = await _tables(owner_conn)
    assert len([t for t in tables if not t["relispartition"]]) >= 14
    missing = [
        t["relname"] for t in tables if not (t["relrowsecurity"] and t["relforcerowsecurity"])
    ]
    assert missing == []


async def test_every_business_table_has_the_audit_trigger(owner_conn: asyncpg.Connection) -> None:
    tables = [t["relname"] for t in await _tables(owner_conn) if not t["relispartition"]]
    business = set(tables) - set(NOT_ROW_AUDITED)
    audited = {
        r["relname"]
        for r in await owner_conn.fetch(
            """
            select c.relname from pg_trigger t
            join pg_class c on c.oid = t.tgrelid
            join pg_proc p on p.oid = t.tgfoid
            where p.proname = 'audit_row_change' and not t.tgisinternal
              and t.tgtype & 4 = 4 and t.tgtype & 8 = 8 and t.tgtype & 16 = 16
            """
        )
    }  # tgtype bits: INSERT(4), DELETE(8), UPDATE(16)
    assert business - audited == set()


async def test_app_role_is_unprivileged_and_owns_nothing(owner_conn: asyncpg.Connection) -> None:
    role = await owner_conn.fetchrow(
        "select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin, rolconfig "
        "from pg_roles where rolname = 'dreamer_app'"
    )
    assert role is not None
    assert not role["rolsuper"] and not role["rolbypassrls"]
    assert not role["rolcreaterole"] and not role["rolcreatedb"]
    assert role["rolcanlogin"]
    assert any(c.startswith("statement_timeout=") for c in role["rolconfig"] or [])
    owned = await owner_conn.fetchval(
        """
        select count(*) from (
            select relowner as o from pg_class union all
            select proowner from pg_proc union all
            select typowner from pg_type union all
            select nspowner from pg_namespace
        ) x where o = (select oid from pg_roles where rolname = 'dreamer_app')
        """
    )
    assert owned == 0


async def test_app_role_cannot_select_any_secret_column(owner_conn: asyncpg.Connection) -> None:
    columns = await owner_conn.fetch(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'public'"
    )
    secrets = [
        (c["table_name"], c["column_name"])
        for c in columns
        if SECRET_COLUMN.search(c["column_name"]) and c["column_name"] not in NOT_SECRET
    ]
    assert ("users", "password_hash") in secrets and ("user_sessions", "session_token") in secrets
    readable = [
        (t, c)
        for t, c in secrets
        if await owner_conn.fetchval(
            "select has_column_privilege('dreamer_app', $1::regclass, $2, 'SELECT')",
            f"public.{t}",
            c,
        )
    ]
    assert readable == []


async def test_secret_column_read_is_refused_at_runtime(app_conn: asyncpg.Connection) -> None:
    for sql in (
        "select password_hash from users",
        "select * from users",
        "select session_token from user_sessions",
        "select unsubscribe_token from newsletter_subscriptions",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_conn.fetch(sql)


@pytest.mark.parametrize("privilege", ["INSERT", "UPDATE", "DELETE", "TRUNCATE"])
async def test_app_role_cannot_write_audit_logs(
    owner_conn: asyncpg.Connection, privilege: str
) -> None:
    assert not await owner_conn.fetchval(
        "select has_table_privilege('dreamer_app', 'audit_logs', $1)", privilege
    )


async def test_every_foreign_key_has_an_index(owner_conn: asyncpg.Connection) -> None:
    unindexed = await owner_conn.fetch(
        """
        select c.conrelid::regclass::text as tbl, c.conname
        from pg_constraint c
        join pg_class r on r.oid = c.conrelid
        where c.contype = 'f' and not r.relispartition
          and not exists (
            select 1 from pg_index i
            where i.indrelid = c.conrelid
              and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
              and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey
          )
        """
    )
    assert [dict(r) for r in unindexed] == []


async def test_no_index_duplicates_a_unique_constraint(owner_conn: asyncpg.Connection) -> None:
    duplicates = await owner_conn.fetch(
        """
        select a.indexrelid::regclass::text as idx, b.indexrelid::regclass::text as dup
        from pg_index a join pg_index b
          on a.indrelid = b.indrelid and a.indexrelid < b.indexrelid
         and a.indkey = b.indkey and coalesce(a.indexprs::text, '') = coalesce(b.indexprs::text, '')
         and coalesce(a.indpred::text, '') = coalesce(b.indpred::text, '')
        join pg_class r on r.oid = a.indrelid
        join pg_namespace n on n.oid = r.relnamespace
        where n.nspname = 'public'
        """
    )
    assert [dict(r) for r in duplicates] == []


async def test_security_definer_functions_pin_search_path(owner_conn: asyncpg.Connection) -> None:
    """pg_temp last: otherwise a temporary table named like a real one shadows it."""
    loose = await owner_conn.fetch(
        """
        select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.prosecdef
          and not exists (select 1 from unnest(p.proconfig) c
                          where c like 'search_path=%' and c like '%, pg_temp')
        """
    )
    assert [r["proname"] for r in loose] == []
