"""The pipeline at scale: list, filter, full-text search and statistics over N leads.

Makes a throwaway embedded PostgreSQL, migrates it, generates N leads with SQL (triggers off
for the bulk load, scores filled in one statement), then times the pipeline's real queries
through the service layer as a staff member under RLS. Each query is reported as its median
time and as a ratio to a baseline measured in the same run: fetching one lead by primary key.

Usage: ``python -m bench.leads [--rows 1000000] [--repeat 15]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from dreamer.core.config import Settings
from dreamer.db import migrate
from dreamer.db.runtime import start_embedded
from dreamer.db.session import Database, RequestContext
from dreamer.leads import service
from dreamer.leads.schemas import LeadFilter
from dreamer.models import LeadStatus

# tmpfs when there is one: the bench measures queries, not the disk
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108

GENERATE = """
ALTER TABLE leads DISABLE TRIGGER USER;
INSERT INTO leads (email, first_name, last_name, company, message, inquiry_type, status, source,
                   assigned_to, tags, score, created_at, last_activity_at, first_contacted_at,
                   lost_reason, conversion_date)
SELECT 'lead' || g || '@example' || (g % 5000) || '.com',
       (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald'])[1 + g % 6],
       (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth'])[1 + (g / 7) % 6],
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'Company ' || (g % 20000) END,
       (ARRAY['We need a chatbot for support', 'Forecasting demand with machine learning',
              'Training for our analysts', 'Integrating language models into our CRM',
              'Computer vision for quality control'])[1 + g % 5] || ' #' || g,
       (ARRAY['general','implementation','training','strategy'])[1 + g % 4],
       s.status,
       (ARRAY['website','referral','social_media','event','direct','other']
        ::lead_source[])[1 + g % 6],
       CASE WHEN g % 4 = 0 THEN NULL ELSE $1::uuid END,
       CASE WHEN abs(hashint4(g + 1)) % 10 = 0 THEN '["hot"]'::jsonb ELSE '[]'::jsonb END,
       abs(hashint4(g)) % 100,
       now() - make_interval(secs => g * 30),
       now() - make_interval(secs => g * 20),
       CASE WHEN s.status <> 'new' THEN now() - make_interval(secs => g * 30 - 3600) END,
       CASE WHEN s.status = 'lost' THEN 'budget' END,
       CASE WHEN s.status = 'converted' THEN now() END
FROM generate_series(1, $2) g,
     LATERAL (SELECT (ARRAY['new','contacted','qualified','negotiating','converted','lost']
                      ::lead_status[])[1 + g % 6] AS status) s;
ALTER TABLE leads ENABLE TRIGGER USER;
"""


async def _prepare(settings: Settings, rows: int) -> tuple[Database, RequestContext]:
    target = await asyncio.to_thread(start_embedded, settings)
    assert target.owner_url
    await asyncio.to_thread(migrate.upgrade, target.owner_url)
    owner = await asyncpg.connect(target.owner_url.replace("+asyncpg", ""))
    try:
        staff = await owner.fetchval(
            "insert into users (email, first_name, last_name, role, status) "
            "values ('bench@example.com', 'B', 'S', 'admin', 'active') returning id"
        )
        session = await owner.fetchval(
            "insert into user_sessions (user_id, session_token, expires_at) "
            "values ($1, 'bench', now() + interval '1 day') returning id",
            staff,
        )
        started = time.perf_counter()
        await owner.execute(
            GENERATE.replace("$1::uuid", f"'{staff}'::uuid").replace("$2", str(int(rows)))
        )
        await owner.execute("VACUUM ANALYZE leads")
        print(f"generated {rows:,} leads in {time.perf_counter() - started:.1f}s")
    finally:
        await owner.close()
    ctx = RequestContext(user_id=staff, role="admin", session_id=session)
    return Database(target.app_url, pool_size=2), ctx


async def _median(
    db: Database, ctx: RequestContext, repeat: int, run: Callable[..., Awaitable[object]]
) -> float:
    times = []
    for _ in range(repeat):
        async with db.transaction(ctx) as session:
            started = time.perf_counter()
            await run(session)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


async def main(rows: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="dreamer-bench-leads-", dir=SCRATCH) as home:
        db, ctx = await _prepare(Settings(dreamer_home=Path(home)), rows)
        try:
            async with db.transaction(ctx) as session:
                some = (
                    await service.page(
                        session, LeadFilter(), sort="-createdAt", cursor=None, limit=1
                    )
                )[0][0]
                deep = (
                    await service.page(
                        session, LeadFilter(), sort="-createdAt", cursor=None, limit=100
                    )
                )[1]
            cases: dict[str, Callable[..., Awaitable[object]]] = {
                "baseline: one lead by id": lambda s: service.get(s, some.id),
                "newest 20": lambda s: service.page(
                    s, LeadFilter(), sort="-createdAt", cursor=None, limit=20
                ),
                "next page (cursor)": lambda s: service.page(
                    s, LeadFilter(), sort="-createdAt", cursor=deep, limit=20
                ),
                "status=qualified, newest": lambda s: service.page(
                    s,
                    LeadFilter(status=LeadStatus.QUALIFIED),
                    sort="-createdAt",
                    cursor=None,
                    limit=20,
                ),
                "tag=hot, score>=50": lambda s: service.page(
                    s, LeadFilter(tag="hot", min_score=50), sort="-score", cursor=None, limit=20
                ),
                "full-text 'forecasting'": lambda s: service.page(
                    s, LeadFilter(search="forecasting"), sort="-createdAt", cursor=None, limit=20
                ),
                "top score": lambda s: service.page(
                    s, LeadFilter(), sort="-score", cursor=None, limit=20
                ),
                "stats (whole table)": service.stats,
            }
            results = {name: await _median(db, ctx, repeat, run) for name, run in cases.items()}
        finally:
            await db.dispose()
    baseline = results["baseline: one lead by id"]
    print(f"{'query':32} {'median ms':>10} {'ratio to baseline':>18}")
    for name, seconds in results.items():
        print(f"{name:32} {seconds * 1000:10.2f} {seconds / baseline:18.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.repeat))
