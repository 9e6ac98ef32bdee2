"""Monthly partitions of audit_logs and analytics_events are made ahead, stragglers moved."""

from __future__ import annotations

import asyncpg


async def _partitions(conn: asyncpg.Connection, parent: str) -> set[str]:
    rows = await conn.fetch(
        "select inhrelid::regclass::text as name from pg_inherits where inhparent = $1::regclass",
        parent,
    )
    return {r["name"] for r in rows}


async def test_partitions_exist_ahead(owner_conn: asyncpg.Connection) -> None:
    months = await owner_conn.fetch(
        "select to_char(date_trunc('month', now() at time zone 'UTC') + make_interval(months => i),"
        " 'YYYY_MM') as m from generate_series(-1, 3) i"
    )
    for parent in ("audit_logs", "analytics_events"):
        names = await _partitions(owner_conn, parent)
        assert f"{parent}_default" in names
        for month in months:
            assert f"{parent}_{month['m']}" in names


# Partitions are read through their parent: read directly, RLS (forced, no policies) hides all.
IN_DEFAULT = (
    "select count(*) from analytics_events where tableoid = 'analytics_events_default'::regclass"
)


async def test_rows_in_default_move_to_their_new_partition(owner_conn: asyncpg.Connection) -> None:
    await owner_conn.execute(
        "insert into analytics_events (event_type, created_at) "
        "values ('future', date_trunc('month', now()) + interval '5 months 2 days')"
    )
    assert await owner_conn.fetchval(IN_DEFAULT) == 1
    created = await owner_conn.fetchval(
        "select ensure_monthly_partitions('analytics_events'::regclass, 6)"
    )
    assert created == 3
    assert await owner_conn.fetchval(IN_DEFAULT) == 0
    assert (
        await owner_conn.fetchval(
            "select count(*) from analytics_events where event_type = 'future'"
        )
        == 1
    )
    # new partitions are locked down like the rest
    forced = await owner_conn.fetchval(
        "select bool_and(relrowsecurity and relforcerowsecurity) from pg_class c "
        "join pg_inherits i on i.inhrelid = c.oid where i.inhparent = 'analytics_events'::regclass"
    )
    assert forced


async def test_app_role_cannot_read_partitions_directly(app_conn: asyncpg.Connection) -> None:
    name = await app_conn.fetchval(
        "select inhrelid::regclass::text from pg_inherits "
        "where inhparent = 'audit_logs'::regclass limit 1"
    )
    try:
        await app_conn.fetch(f"select * from {name}")
    except asyncpg.InsufficientPrivilegeError:
        return
    raise AssertionError("partition readable by the app role")
