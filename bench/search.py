"""Site search at 100,000 documents: ``GET /api/v1/search`` against a primary-key read.

On a throwaway embedded database (migrated and seeded) it writes ``--docs`` published items
(80 % pages, 15 % case studies, 5 % testimonials) whose text is drawn from a vocabulary of
2,000 words with a Zipf-like skew, so common words match many documents and rare ones few.
``dreamer serve`` (2 workers, ``PUBLIC_CACHE=false``: every request reaches the database) then
answers ``--requests`` searches one after the other — one or two words, a third of them
prefixes — and as many reads of one page by slug, the baseline of the same run. It prints
p50/p95 of both and their ratio, and writes JSON to ``bench/results/``.

Usage: ``python -m bench.search [--docs 100000] [--requests 300]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from bench.__main__ import RESULTS, _free_port, _process, _role_url, _wait_ready

WORDS = 2000
SEED = 7

LOAD = """
with vocab as (
    select array_agg(w) as words from (
        select left(md5(g::text), 4 + g % 5) || (array['ing', 'ed', 'er', 's', ''])[1 + g % 5] as w
        from generate_series(1, $2) g
    ) v
),
docs as (
    select g, (select string_agg(words[1 + least(i * 0 + floor(pow(random(), 3) * $2)::int,
                                                  $2 - 1)], ' ')
               from generate_series(1, 12 + g % 40) i) as body,
           (select string_agg(words[1 + least(i * 0 + floor(pow(random(), 3) * $2)::int,
                                              $2 - 1)], ' ')
               from generate_series(1, 3 + g % 5) i) as title
    from vocab, generate_series(1, $1) g
)
insert into {table}
select {columns} from docs
"""
TABLES = {
    "content_pages": (
        "content_pages (title, slug, page_type, content, status, published_at)",
        "title, 'doc-' || g, 'blog', jsonb_build_object('blocks', jsonb_build_array("
        "jsonb_build_object('type', 'paragraph', 'text', body))), 'published', now()",
        0.80,
    ),
    "case_studies": (
        "case_studies (title, slug, challenge, status, published_at)",
        "title, 'study-' || g, body, 'published', now()",
        0.15,
    ),
    "testimonials": (
        "testimonials (client_name, content, status, published_at)",
        "title, body, 'published', now()",
        0.05,
    ),
}


def _load(owner_url: str, docs: int) -> list[str]:
    """Write the documents (triggers on: revisions, audit); return the vocabulary."""

    async def run() -> list[str]:
        conn = await asyncpg.connect(owner_url)
        try:
            for table, (target, columns, share) in TABLES.items():
                started = time.monotonic()
                sql = LOAD.replace("{table}", target).replace("{columns}", columns)
                await conn.execute("select setseed(0.7)")
                await conn.execute(sql, int(docs * share), WORDS)
                print(f"  {table}: {int(docs * share)} rows in {time.monotonic() - started:.0f} s")
            await conn.execute("analyze content_pages, case_studies, testimonials")
            rows = await conn.fetch(
                "select left(md5(g::text), 4 + g % 5)"
                " || (array['ing', 'ed', 'er', 's', ''])[1 + g % 5] as w"
                " from generate_series(1, $1) g",
                WORDS,
            )
            return [r["w"] for r in rows]
        finally:
            await conn.close()

    return asyncio.run(run())


def _queries(words: list[str], n: int) -> list[str]:
    rng = random.Random(SEED)  # noqa: S311 (repeatable test data, not secrets)
    out = []
    for i in range(n):
        picked = [words[int(rng.random() ** 3 * len(words))] for _ in range(1 + i % 2)]
        if i % 3 == 0:
            picked[-1] = picked[-1][:3]  # a prefix, as someone still typing
        out.append(" ".join(picked))
    return out


def _timed(http: httpx.Client, path: str, params: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    response = http.get(path, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path} {params}: {response.status_code} {response.text[:200]}")
    return elapsed


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def _measure(
    env: dict[str, str], dreamer: list[str], home: Path, port: int, words: list[str], n: int
) -> tuple[list[float], list[float], list[int]]:
    with _process([*dreamer, "serve"], env, home / "dreamer.log"):
        base = f"http://127.0.0.1:{port}"
        _wait_ready(f"{base}/readyz")
        queries = _queries(words, n)
        with httpx.Client(base_url=base, timeout=30) as http:
            for q in queries[:20]:  # warm up (plans, caches)
                _timed(http, "/api/v1/search", {"q": q})
                _timed(http, "/api/v1/pages/doc-1")
            search = [_timed(http, "/api/v1/search", {"q": q}) for q in queries]
            hits = [
                int(http.get("/api/v1/search", params={"q": q}).json()["meta"]["total"])
                for q in queries[:50]
            ]
            page = [_timed(http, "/api/v1/pages/doc-1") for _ in queries]
    return search, page, hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="dreamer-search-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
        env.update(DREAMER_HOME=home, WORKERS="2", LOG_LEVEL="WARNING", RUN_WORKER="false")
        env.update(PORT=str(port), SECRET_KEY=secrets.token_hex(32), PUBLIC_CACHE="false")
        dreamer = [sys.executable, "-m", "dreamer.cli"]
        subprocess.run([*dreamer, "db", "start"], env=env, check=True, capture_output=True)
        try:
            subprocess.run([*dreamer, "seed", "--demo"], env=env, check=True, capture_output=True)
            print(f"writing {args.docs} documents …", flush=True)
            words = _load(_role_url(env, "owner"), args.docs)
            search, page, hits = _measure(env, dreamer, Path(home), port, words, args.requests)
        finally:
            subprocess.run([*dreamer, "db", "stop"], env=env, check=False, capture_output=True)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} ({os.cpu_count()} cores)",
        "docs": args.docs,
        "requests": args.requests,
        "search_ms": {"p50": statistics.median(search), "p95": _p(search, 95)},
        "page_by_slug_ms": {"p50": statistics.median(page), "p95": _p(page, 95)},
        "median_matches": statistics.median(hits),
        "ratio_p95": _p(search, 95) / _p(page, 95),
    }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"search-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
