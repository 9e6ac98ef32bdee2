"""Staff queries at scale: p95 latency at scale 10 ÷ p95 at scale 1 (target ≤ 2).

For each scale a data set is generated (``dreamer bench generate``) into an embedded database
of its own under ``bench/.data/scale-<N>`` (kept: a second run reuses it; ``--fresh`` makes it
again), ``dreamer serve`` runs on it with 2 workers, and a staff member signed in through
the API asks each question ``--requests`` times, one after the other, with parameters drawn
from the data (leads, last names, days with bookings): the lead list with filters and keyset
pages, full-text lead search, lead statistics, the audit trail of one lead, the bookings of
one day, and the analytics reports (traffic, pages, sources, dashboard: daily roll-ups; the
lead funnel). What must hold is that the cost grows with the page asked for, not with the
table.

Usage: ``python -m bench.staff [--scales 1,10] [--requests 200] [--fresh]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.__main__ import LIMITS, RESULTS, UNLIMITED, _free_port, _process, _role_url, _wait_ready
from dreamer.seed.scale import EMAIL_DOMAIN, LAST, PASSWORD

DATA = Path(__file__).parent / ".data"
STATUSES = ("new", "contacted", "qualified", "negotiating", "converted", "lost")
SOURCES = ("website", "referral", "social_media", "event", "direct")


def _generate(home: Path, scale: str, env: dict[str, str], fresh: bool) -> None:
    marker = home / "generated"
    if marker.exists() and not fresh:
        print(f"scale {scale}: reusing {home}")
        return
    if home.exists():
        subprocess.run([sys.executable, "-m", "dreamer.cli", "db", "stop"], env=env, check=False)
        shutil.rmtree(home)
    home.mkdir(parents=True)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "dreamer.cli", "bench", "generate", "--scale", scale],
        env=env,
        check=True,
    )
    marker.write_text(f"{datetime.now(UTC).isoformat()} {time.monotonic() - started:.0f}s\n")


async def _samples(owner_url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(owner_url)
    try:
        staff = await conn.fetchval(
            "select email from users where role = 'super_admin' and email like $1 limit 1",
            f"%@{EMAIL_DOMAIN}",
        )
        leads = [
            r["id"] for r in await conn.fetch("select id from leads order by random() limit 500")
        ]
        days = [
            r["day"]
            for r in await conn.fetch(
                "select day from (select distinct date_trunc('day', scheduled_at) as day"
                " from service_bookings) d order by random() limit 200"
            )
        ]
    finally:
        await conn.close()
    return {"staff": staff, "leads": leads, "days": days}


def _scenarios(samples: dict[str, Any], rng: random.Random) -> dict[str, Callable[[], Any]]:
    def lead_list() -> tuple[str, dict[str, Any]]:
        params = {"status": rng.choice(STATUSES), "source": rng.choice(SOURCES), "limit": 20}
        return "/api/v1/leads", params

    def lead_search() -> tuple[str, dict[str, Any]]:
        return "/api/v1/leads", {"q": rng.choice(LAST).lower(), "limit": 20}

    def lead_stats() -> tuple[str, dict[str, Any]]:
        return "/api/v1/leads/stats", {}

    def audit() -> tuple[str, dict[str, Any]]:
        lead = rng.choice(samples["leads"])
        return "/api/v1/admin/audit", {"entityType": "leads", "entityId": str(lead)}

    def bookings() -> tuple[str, dict[str, Any]]:
        day = rng.choice(samples["days"])
        return "/api/v1/bookings", {
            "from": day.isoformat(),
            "to": (day + timedelta(days=1)).isoformat(),
        }

    def analytics(path: str) -> Callable[[], tuple[str, dict[str, Any]]]:
        return lambda: (f"/api/v1/admin/analytics/{path}", {})

    return {
        "analytics traffic (30 days)": analytics("traffic"),
        "analytics top pages": analytics("pages"),
        "analytics sources": analytics("sources"),
        "analytics dashboard": analytics("dashboard"),
        "lead funnel (30 days)": analytics("lead-funnel"),
        "lead list (filters)": lead_list,
        "lead list, 5 keyset pages": lead_list,
        "lead search": lead_search,
        "lead stats": lead_stats,
        "audit trail of a lead": audit,
        "bookings of a day": bookings,
    }


def _sign_in(http: httpx.Client, email: str) -> None:
    login = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    login.raise_for_status()
    http.headers["Authorization"] = f"Bearer {login.json()['token']}"


def _measure(base: str, samples: dict[str, Any], requests: int) -> dict[str, Any]:
    rng = random.Random(42)  # noqa: S311 (reproducible samples, not secrets)
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=60) as http:
        for name, make in _scenarios(samples, rng).items():
            # a new sign-in per scenario: a slow run outlasts one access token (15 minutes)
            _sign_in(http, samples["staff"])
            pages = 5 if "keyset" in name else 1
            for _ in range(5):  # warm up
                path, params = make()
                http.get(path, params=params).raise_for_status()
            times = []
            for _ in range(requests):
                path, params = make()
                for _page in range(pages):
                    began = time.perf_counter()
                    response = http.get(path, params=params)
                    times.append((time.perf_counter() - began) * 1000)
                    response.raise_for_status()
                    cursor = response.json().get("meta", {}).get("nextCursor")
                    if not cursor:
                        break
                    params = {**params, "cursor": cursor}
            times.sort()
            out[name] = {
                "requests": len(times),
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--fresh", action="store_true", help="generate the data sets again")
    args = parser.parse_args()
    scales = args.scales.split(",")
    results: dict[str, dict[str, Any]] = {}
    rows: dict[str, int] = {}
    for scale in scales:
        home = DATA / f"scale-{scale}"
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
        env.update(DREAMER_HOME=str(home), WORKERS="2", LOG_LEVEL="WARNING", RUN_WORKER="false")
        env.update(PORT=str(port), SECRET_KEY=secrets.token_hex(32), AUTO_SEED="false")
        env.update(dict.fromkeys(LIMITS, UNLIMITED))
        _generate(home, scale, env, args.fresh)
        with _process([sys.executable, "-m", "dreamer.cli", "serve"], env, home / "serve.log"):
            base = f"http://127.0.0.1:{port}"
            _wait_ready(f"{base}/readyz", timeout=600)
            owner = _role_url(env, "owner")
            samples = asyncio.run(_samples(owner))
            results[scale] = _measure(base, samples, args.requests)
            rows[scale] = asyncio.run(_count(owner))
        subprocess.run([sys.executable, "-m", "dreamer.cli", "db", "stop"], env=env, check=False)
    _report(scales, results, rows)


async def _count(owner_url: str) -> int:
    conn = await asyncpg.connect(owner_url)
    try:
        return int(await conn.fetchval("select count(*) from leads"))
    finally:
        await conn.close()


def _report(scales: list[str], results: dict[str, dict[str, Any]], leads: dict[str, int]) -> None:
    low, high = scales[0], scales[-1]
    print("\nleads: " + ", ".join(f"scale {s}: {leads[s]:,}" for s in scales))
    header = "".join(f" {'p95 @' + s:>11}" for s in scales)
    print(f"{'scenario':28}{header} {'ratio':>6} target")
    table = []
    for name in results[low]:
        p95 = {s: results[s][name]["p95_ms"] for s in scales}
        ratio = p95[high] / p95[low] if p95[low] else float("inf")
        cells = "".join(f" {p95[s]:9.2f}ms" for s in scales)
        print(f"{name:28}{cells} {ratio:6.2f} ≤2 {'ok' if ratio <= 2 else 'MISS'}")
        table.append(
            {
                "scenario": name,
                "by_scale": {s: results[s][name] for s in scales},
                "ratio": round(ratio, 3),
            }
        )
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"staff-{stamp}.json"
    document = {
        "date": stamp,
        "machine": {"cores": os.cpu_count(), "platform": platform.platform()},
        "leads": leads,
        "results": table,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
