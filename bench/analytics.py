"""Analytics ingest: batches of 500 events through the API against ``COPY`` of the same rows.

On a throwaway embedded database, ``dreamer serve`` (2 workers, analytics rate limit lifted)
receives ``--batches`` requests of 500 events each from ``--clients`` concurrent clients
(each a visitor of its own, as real browsers are); the answer (202) comes once the events and
their daily roll-ups are written. The baseline of the same run: the rows those requests
stored, read back and written again with ``COPY`` (the owner, the same table, its indexes and
partitions; forced RLS lifted for that transaction, as COPY needs), the fastest way
PostgreSQL takes rows, with none of the API's work (validation, hashing, roll-ups, HTTP).
The two alternate for ``--rounds`` rounds and the best of each counts. Target: API rows/s
at least 0.3 x COPY rows/s. Prints the figures and writes JSON to ``bench/results/``.

Usage: ``python -m bench.analytics [--batches 200] [--clients 4] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.__main__ import RESULTS, _free_port, _process, _role_url, _wait_ready

BATCH = 500
TARGET = 0.3
AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
COLUMNS = (
    "user_id, session_id, visitor_hash, event_type, page_url, path, referrer, utm_source,"
    " utm_medium, utm_campaign, properties, ip_address, browser, os, device, created_at"
)


def _batch(client: int, n: int) -> list[dict[str, Any]]:
    kinds = ("page_view", "page_view", "cta_click", "scroll_depth", "web_vital")
    return [
        {
            "eventType": kinds[i % len(kinds)],
            "pageUrl": f"https://dreamer.test/services/{i % 40}?utm_source=bench&utm_medium=cpc",
            "referrer": "https://www.google.com/",
            "properties": {"depth": i % 100, "label": f"section {i % 12}", "ok": True},
            "sessionId": f"bench-{client}-{n}",
            "visitorId": f"visitor-{client}-{n}",
        }
        for i in range(BATCH)
    ]


async def _api_round(base: str, batches: int, clients: int) -> float:
    """Rows per second through POST /api/v1/analytics/events."""
    bodies = [_batch(c, n) for n in range(batches // clients) for c in range(clients)]

    async def one(http: httpx.AsyncClient, queue: list[list[dict[str, Any]]]) -> None:
        while queue:
            body = queue.pop()
            answer = await http.post("/api/v1/analytics/events", json=body)
            if answer.status_code != 202:
                raise SystemExit(f"ingest: {answer.status_code} {answer.text[:300]}")

    queue = list(bodies)
    headers = {"User-Agent": AGENT}
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as http:
        await http.post("/api/v1/analytics/events", json=_batch(0, -1))  # warm up
        started = time.perf_counter()
        await asyncio.gather(*(one(http, queue) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(bodies) * BATCH / elapsed


async def _copy_round(owner_url: str, rows: int) -> float:
    """Rows per second through COPY of stored rows (the same shape) into the same table."""
    conn = await asyncpg.connect(owner_url)
    try:
        records = await conn.fetch(
            f"select {COLUMNS} from analytics_events order by created_at desc limit $1", rows
        )
        columns = [c.strip() for c in COLUMNS.split(",")]
        # COPY is refused under forced RLS: the owner lifts it for this transaction only
        async with conn.transaction():
            await conn.execute("ALTER TABLE analytics_events NO FORCE ROW LEVEL SECURITY")
            started = time.perf_counter()
            await conn.copy_records_to_table("analytics_events", records=records, columns=columns)
            elapsed = time.perf_counter() - started
            await conn.execute("ALTER TABLE analytics_events FORCE ROW LEVEL SECURITY")
        return len(records) / elapsed
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="dreamer-analytics-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
        env.update(DREAMER_HOME=home, WORKERS="2", LOG_LEVEL="WARNING", RUN_WORKER="false")
        env.update(PORT=str(port), SECRET_KEY=secrets.token_hex(32))
        env.update(RATE_LIMIT_ANALYTICS_IP="1000000000/1")
        dreamer = [sys.executable, "-m", "dreamer.cli"]
        api: list[float] = []
        copy: list[float] = []
        with _process([*dreamer, "serve"], env, Path(home) / "dreamer.log"):
            base = f"http://127.0.0.1:{port}"
            _wait_ready(f"{base}/readyz")
            owner = _role_url(env, "owner")
            for _ in range(args.rounds):
                api.append(asyncio.run(_api_round(base, args.batches, args.clients)))
                copy.append(asyncio.run(_copy_round(owner, args.batches * BATCH)))
                print(f"round: API {api[-1]:,.0f} rows/s, COPY {copy[-1]:,.0f} rows/s", flush=True)
    ratio = max(api) / max(copy)
    verdict = "ok" if ratio >= TARGET else "MISS"
    print(
        f"analytics ingest, {BATCH} events a request, {args.clients} clients: best API"
        f" {max(api):,.0f} rows/s, best COPY {max(copy):,.0f} rows/s,"
        f" ratio {ratio:.2f} (target ≥ {TARGET} {verdict})"
    )
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} ({os.cpu_count()} cores)",
        "settings": vars(args),
        "api_rows_per_second": [round(v) for v in api],
        "copy_rows_per_second": [round(v) for v in copy],
        "ratio": round(ratio, 3),
        "target": TARGET,
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"analytics-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
