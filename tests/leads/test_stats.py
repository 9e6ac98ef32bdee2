"""Lead statistics come from roll-ups the database keeps with every change: they must equal
what counting the leads gives, after inserts, updates, deletes and concurrent writers."""

from __future__ import annotations

import asyncio
import statistics

import asyncpg
import httpx

from tests.factories import make_account
from tests.harness import ClonedDatabase

COUNTS = """
    select status::text, source::text, count(*) as n from leads group by 1, 2
"""


async def _expected(
    conn: asyncpg.Connection,
) -> tuple[dict[str, int], dict[str, dict[str, object]]]:
    rows = await conn.fetch(COUNTS)
    by_status: dict[str, int] = {}
    by_source: dict[str, list[int]] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + r["n"]
        total, converted = by_source.get(r["source"], [0, 0])
        by_source[r["source"]] = [
            total + r["n"],
            converted + (r["n"] if r["status"] == "converted" else 0),
        ]
    return by_status, {
        s: {"total": t, "converted": c, "conversionRate": round(c / t, 4)}
        for s, (t, c) in by_source.items()
    }


async def _write(url: str, offset: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        for i in range(40):
            await conn.execute(
                """insert into leads (email, status, source, lost_reason, conversion_date,
                                      first_contacted_at, created_at)
                   values ($1, $2::lead_status, $3, case when $2::text = 'lost' then 'budget' end,
                           case when $2::text = 'converted' then now() end,
                           case when $2::text <> 'new' then now() - interval '1 hour' * $4 end,
                           now() - interval '1 hour' * ($4 * 2 + 1))""",
                f"w{offset}.{i}@example.com",
                ("new", "contacted", "qualified", "converted", "lost")[i % 5],
                ("website", "referral", "event")[i % 3],
                (i % 7) + 0.5,
            )
    finally:
        await conn.close()


async def test_statistics_equal_a_count_of_the_leads(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, fresh_db: ClonedDatabase
) -> None:
    admin = await make_account(client, owner_conn, "stats@example.com", role="admin")
    await asyncio.gather(*(_write(fresh_db.owner_url, n) for n in range(4)))  # concurrent
    # updates that move status, source or first contact, and ones that move none of them
    await owner_conn.execute(
        "update leads set status = 'contacted', first_contacted_at = created_at + interval '3 h'"
        " where status = 'new' and email like 'w0.%'"
    )
    await owner_conn.execute("update leads set source = 'direct' where email like 'w1.%'")
    await owner_conn.execute("update leads set notes = 'seen' where email like 'w2.%'")
    await owner_conn.execute("delete from leads where email like 'w3.1%'")
    stats = (await client.get("/api/v1/leads/stats", headers=admin.auth)).json()["data"]
    by_status, by_source = await _expected(owner_conn)
    assert stats["byStatus"] == by_status
    assert stats["bySource"] == by_source
    seconds = [
        r["s"]
        for r in await owner_conn.fetch(
            "select first_contact_seconds as s from leads where first_contact_seconds is not null"
        )
    ]
    exact = statistics.median_low(seconds) / 3600
    assert abs(stats["medianHoursToFirstContact"] - exact) <= exact * 0.01 + 0.01

    await owner_conn.execute("delete from leads")
    empty = (await client.get("/api/v1/leads/stats", headers=admin.auth)).json()["data"]
    assert empty == {"byStatus": {}, "bySource": {}, "medianHoursToFirstContact": None}
