"""SIGKILL of the embedded PostgreSQL under a write load, through ``dreamer serve``: the service
is ready again by itself within 30 s, no acknowledged write is lost, and a booking retried with
the same Idempotency-Key exists once. Meanwhile every request gets 503 with Retry-After."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from dreamer.db.embedded import EmbeddedPostgres

READY_WITHIN = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_ready(http: httpx.AsyncClient, within: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if (await http.get("/readyz", timeout=2)).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"not ready within {within} s")


async def _contact_load(
    http: httpx.AsyncClient, stop: asyncio.Event, acknowledged: list[str], codes: Counter[int]
) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        email = f"load{n}@example.com"
        try:
            response = await http.post(
                "/api/v1/contact", json={"name": "Load Test", "email": email, "message": "hi"}
            )
        except httpx.HTTPError:
            codes[0] += 1
            continue
        codes[response.status_code] += 1
        if response.status_code == 201:
            acknowledged.append(email)
        else:
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) >= 1


async def _book_until_done(
    http: httpx.AsyncClient, auth: dict[str, str], body: dict[str, str]
) -> int:
    """POST the same booking (same Idempotency-Key) until it is acknowledged; the attempts."""
    for attempt in range(1, 200):
        try:
            response = await http.post("/api/v1/bookings", json=body, headers=auth)
        except httpx.HTTPError:
            await asyncio.sleep(0.2)
            continue
        if response.status_code in (200, 201):
            return attempt
        assert response.status_code == 503, response.text
        await asyncio.sleep(0.2)
    raise AssertionError("the booking was never acknowledged")


@dataclass(frozen=True)
class Served:
    base: str
    home: Path
    log: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`dreamer serve` on an embedded PostgreSQL of its own (a fresh DREAMER_HOME), 2 workers."""
    home = tmp_path / "home"
    port = _free_port()
    env = {
        **os.environ,
        "DREAMER_HOME": str(home),
        "PORT": str(port),
        "WORKERS": "2",
        "RUN_WORKER": "false",
        "RATE_LIMIT_CONTACT_IP": "1000000/60",
        "RATE_LIMIT_REGISTER_IP": "1000/60",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "1024",
        "ARGON2_PARALLELISM": "1",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_AUTH_URL"):
        env.pop(name, None)
    log = tmp_path / "serve.log"
    with open(log, "wb") as output:
        serve = subprocess.Popen(
            [sys.executable, "-m", "dreamer.cli", "serve"], env=env, stdout=output, stderr=output
        )
    try:
        yield Served(f"http://127.0.0.1:{port}", home, log)
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()


async def test_the_service_recovers_from_a_killed_database_without_losing_writes(
    served: Served,
) -> None:
    home = served.home
    async with httpx.AsyncClient(base_url=served.base, timeout=20) as http:
        await _wait_ready(http, 120)
        registered = await http.post(
            "/api/v1/auth/register",
            json={
                "email": "booker@example.com",
                "password": "a long passphrase",
                "firstName": "B",
                "lastName": "K",
            },
        )
        assert registered.status_code == 201, registered.text
        auth = {
            "Authorization": f"Bearer {registered.json()['data']['accessToken']}",
            "Idempotency-Key": "crash-test-booking-1",
        }
        slots = await http.get("/api/v1/services/ai-strategy-consultation/availability")
        slot = slots.json()["data"]["slots"][0]["start"]
        booking = {"serviceId": "ai-strategy-consultation", "scheduledAt": slot}

        stop = asyncio.Event()
        acknowledged: list[str] = []
        codes: Counter[int] = Counter()
        load = asyncio.gather(*(_contact_load(http, stop, acknowledged, codes) for _ in range(4)))
        await asyncio.sleep(1.0)
        bindir = os.environ.get("PG_BINDIR")  # the same binaries `dreamer serve` picked
        server = EmbeddedPostgres(home, Path(bindir) if bindir else None)
        postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
        killed_at = time.monotonic()
        attempts = await _book_until_done(http, auth, booking)
        await _wait_ready(http, READY_WITHIN)
        recovered = time.monotonic() - killed_at
        await asyncio.sleep(1.0)  # writes go on after the recovery
        stop.set()
        await load
        assert time.monotonic() - killed_at < READY_WITHIN
        assert codes[503] > 0 and codes[201] > 0, codes  # the outage was real, and answered
        assert codes[500] == 0

        owner = await asyncpg.connect(server.url("dreamer_owner"))
        try:
            stored = {r["email"] for r in await owner.fetch("select email from leads")}
            bookings = await owner.fetchval(
                "select count(*) from service_bookings where idempotency_key = $1",
                "crash-test-booking-1",
            )
        finally:
            await owner.close()
        assert set(acknowledged) <= stored, set(acknowledged) - stored
        assert bookings == 1
        print(
            f"\nkill -9 of the postmaster: ready again {recovered:.1f} s after it;"
            f" contact posts {dict(codes)}; {len(acknowledged)} acknowledged, all stored;"
            f" booking acknowledged after {attempts} attempt(s), stored once"
        )
    text = served.log.read_text(errors="replace")
    assert "restarting it" in text and "running again" in text
    assert "unhandled error" not in text, text[-3000:]
