"""A burst from one IP through the real server (uvicorn, 2 workers, default limits and pools):
logins, contact posts and public reads at once. Nothing may answer 500, every refusal is a
problem document (429/503 with Retry-After), and a public read during the burst stays fast.

Before the fix, 40 logins from one IP gave twelve 500s and a read took 30 s: each request held a
pooled connection while the rate limiter waited for a second one from the same pool."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import asyncpg
import httpx
import pytest

from dreamer.auth.service import passwords_for
from dreamer.core.config import Settings
from tests.harness import run_server

PASSWORD = "a long and lovely passphrase"
BURST = 200


async def _read(http: httpx.AsyncClient) -> tuple[int, float]:
    started = time.monotonic()
    response = await http.get("/api/v1/services")
    return response.status_code, time.monotonic() - started


LIFTED = {n.upper(): "1000000/60" for n in Settings.model_fields if n.startswith("rate_limit_")}
# How long the read during the burst may take. With the limits lifted, 80 production Argon2id
# verifications saturate this machine's two shared cores by design, so the read waits for
# CPU (2.6 s was seen once on a loaded CI machine); what it must never do is wait for a pooled
# connection, which would end in 503 after DB_POOL_TIMEOUT_SECONDS (3 s): the 200 checks that.
READ_BOUND = {"default": 2.0, "lifted": 5.0}


@pytest.mark.parametrize("limits", ["default", "lifted"])
async def test_a_burst_from_one_ip_gets_no_server_error_and_reads_stay_fast(
    settings: Settings, owner_conn: asyncpg.Connection, limits: str
) -> None:
    """With the default limits most of the burst is refused with 429; with the limits lifted
    every login costs an Argon2id verification and the credential pool sheds what it cannot
    serve with 503. Either way, reads go through the app pool and stay fast."""
    stored = passwords_for(Settings()).hash(PASSWORD)  # production Argon2id parameters
    await owner_conn.execute(
        "insert into users (email, first_name, last_name, password_hash, status)"
        " values ('busy@example.com', 'B', 'U', $1, 'active')",
        stored,
    )
    await owner_conn.execute(
        "insert into services (name, slug, is_active) values ('Audit', 'audit', true)"
    )
    production = {"ARGON2_TIME_COST": "3", "ARGON2_MEMORY_KIB": "65536", "ARGON2_PARALLELISM": "2"}
    if limits == "lifted":
        production |= LIFTED
    with run_server(settings, **production) as base:
        pool = httpx.Limits(max_connections=BURST + 10)
        async with httpx.AsyncClient(base_url=base, limits=pool, timeout=60) as http:
            requests = []
            for i in range(BURST):
                if i % 5 in (0, 1):
                    password = PASSWORD if i % 10 == 0 else "wrong password!"
                    body = {"email": "busy@example.com", "password": password}
                    requests.append(http.post("/api/v1/auth/login", json=body))
                elif i % 5 in (2, 3):
                    form = {"name": f"Visitor {i}", "email": f"v{i}@example.com", "message": "Hi"}
                    requests.append(http.post("/api/v1/contact", json=form))
                else:
                    requests.append(http.get("/api/v1/services"))
            burst = asyncio.gather(*requests)
            await asyncio.sleep(0.2)  # the burst is in flight
            probe = await _read(http)
            responses = await burst
        log = (settings.dreamer_home / "server.log").read_text()

    codes = Counter(r.status_code for r in responses)
    print(
        f"\n{limits} limits, burst of {BURST}: {dict(sorted(codes.items()))};"
        f" read during it: {probe[1]:.3f} s"
    )
    assert all(c < 500 or c == 503 for c in codes), codes
    assert codes[500] == 0
    for response in responses:
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
        if response.status_code in (429, 503):
            assert int(response.headers["retry-after"]) >= 1
    assert probe[0] == 200 and probe[1] < READ_BOUND[limits], probe
    assert codes[200] + codes[201] > 0
    assert "Traceback" not in log and "unhandled error" not in log, log[-3000:]
