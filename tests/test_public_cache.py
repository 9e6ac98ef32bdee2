"""The per-worker cache of anonymous public reads (dreamer.db.cache), through uvicorn with two
worker processes: a change is visible on every worker within a second (update, delete,
deactivate), browsers revalidate with ETag → 304, staff never get the cached public view, and
a lost listening connection turns the cache off rather than letting it go stale."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import asyncpg
import httpx

from dreamer.core.config import Settings
from tests.factories import make_account
from tests.harness import ClonedDatabase, Cluster, run_server

SLUG = "/api/v1/services/cached-audit"
BOUND = 1.0  # seconds


async def _every_worker(base: str, path: str, n: int = 24) -> list[httpx.Response]:
    """``n`` requests on fresh connections, so both worker processes answer some."""

    async def one() -> httpx.Response:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            return await http.get(path)

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def _stale_for(
    base: str, path: str, ok: Callable[[httpx.Response], bool], changed_at: float
) -> float:
    """How long after the change a request could still get the old answer: the latest moment
    (seconds after ``changed_at``) at which a request *began* and was answered as not ``ok``,
    sampling for two seconds on fresh connections (so both worker processes answer)."""
    last_stale = 0.0
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=fresh, timeout=10) as http:
        while time.monotonic() - changed_at < 2.0:
            began = time.monotonic()
            batch = await asyncio.gather(*(http.get(path) for _ in range(4)))
            if not all(ok(r) for r in batch):
                last_stale = began - changed_at
    return last_stale


def _slugs(response: httpx.Response) -> set[str]:
    return {s["slug"] for s in response.json()["data"]}


async def _change(owner: asyncpg.Connection, sql: str, *args: object) -> float:
    await owner.execute(sql, *args)  # committed when this returns
    return time.monotonic()


async def _warm(base: str, path: str) -> None:
    """Until both workers answer from their cache."""
    for _ in range(50):
        await _every_worker(base, path, 8)
        if all(r.headers.get("x-cache") == "hit" for r in await _every_worker(base, path)):
            return
    raise AssertionError("the cache never answered")


async def test_a_change_reaches_every_worker_within_a_second(
    settings: Settings, owner_conn: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    service_id = await owner_conn.fetchval(
        "insert into services (name, slug, is_active) values ('Audit', 'cached-audit', true)"
        " returning id"
    )
    staff = await make_account(client, owner_conn, "staff@example.com", role="admin")
    with run_server(settings) as base:
        await _warm(base, SLUG)
        await _warm(base, "/api/v1/services")

        at = await _change(owner_conn, "update services set name = 'v2' where id = $1", service_id)
        stale = await _stale_for(base, SLUG, lambda r: r.json()["data"]["name"] == "v2", at)
        assert stale < BOUND, stale
        await _warm(base, "/api/v1/services")
        at = await _change(owner_conn, "update services set name = 'v3' where id = $1", service_id)
        listed = await _stale_for(
            base, "/api/v1/services", lambda r: "v3" in {s["name"] for s in r.json()["data"]}, at
        )
        assert listed < BOUND, listed

        # deactivated ("unpublished"): gone for the public at once, still there for staff
        await _warm(base, SLUG)
        at = await _change(
            owner_conn, "update services set is_active = false where id = $1", service_id
        )
        stale = await _stale_for(base, SLUG, lambda r: r.status_code == 404, at)
        assert stale < BOUND, stale
        await _warm(base, "/api/v1/services")
        async with httpx.AsyncClient(base_url=base, headers=staff.auth) as http:
            for _ in range(10):  # staff see the inactive service; the public list does not
                seen = await http.get("/api/v1/services")
                assert seen.status_code == 200 and "cached-audit" in _slugs(seen)
                assert seen.headers["cache-control"] == "private, no-store"
                assert "x-cache" not in seen.headers
        for public in await _every_worker(base, "/api/v1/services"):
            assert "cached-audit" not in _slugs(public)

        await owner_conn.execute("update services set is_active = true where id = $1", service_id)
        await _warm(base, SLUG)
        at = await _change(owner_conn, "delete from services where id = $1", service_id)
        stale = await _stale_for(base, SLUG, lambda r: r.status_code == 404, at)
        assert stale < BOUND, stale


async def test_browsers_revalidate_with_etags(
    settings: Settings, owner_conn: asyncpg.Connection
) -> None:
    await owner_conn.execute(
        "insert into services (name, slug, is_active) values ('Audit', 'cached-audit', true)"
    )
    path = SLUG
    with run_server(settings) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            first = await http.get(path)
            assert first.status_code == 200
            etag = first.headers["etag"]
            assert first.headers["cache-control"] == "public, no-cache"
            assert "Authorization" in first.headers["vary"]
            again = await http.get(path, headers={"If-None-Match": etag})
            assert again.status_code == 304 and again.content == b""
            assert again.headers["etag"] == etag
            other = await http.get(path, headers={"If-None-Match": '"something-else"'})
            assert other.status_code == 200 and other.json() == first.json()
            missing = await http.get("/api/v1/services/no-such-service")
            assert missing.status_code == 404 and "etag" not in missing.headers


async def test_a_lost_listener_turns_the_cache_off_not_stale(
    settings: Settings, owner_conn: asyncpg.Connection, cluster: Cluster, fresh_db: ClonedDatabase
) -> None:
    service_id = await owner_conn.fetchval(
        "insert into services (name, slug, is_active) values ('Audit', 'cached-audit', true)"
        " returning id"
    )
    with run_server(settings) as base:
        await _warm(base, SLUG)
        # the listening connections die (a failover, a DBA's pg_terminate_backend) ...
        admin = await asyncpg.connect(cluster.superuser_url)
        try:
            killed = await admin.fetchval(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity"
                " where application_name = 'dreamer-cache' and datname = $1",
                fresh_db.name,
            )
        finally:
            await admin.close()
        assert killed == 2  # one per worker process
        # ... and a change made meanwhile is still seen within the bound
        at = await _change(owner_conn, "update services set name = 'v4' where id = $1", service_id)
        stale = await _stale_for(base, SLUG, lambda r: r.json()["data"]["name"] == "v4", at)
        assert stale < BOUND, stale
        # the workers reconnect and cache again
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            hits = {r.headers.get("x-cache") for r in await _every_worker(base, SLUG)}
            if "hit" in hits:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the cache did not come back")


async def test_a_forged_notification_cannot_make_the_cache_miss_a_change(
    settings: Settings, owner_conn: asyncpg.Connection, app_conn: asyncpg.Connection
) -> None:
    """Any role may NOTIFY on the channel. The app role announcing the version the next real
    change will have must not let that change go unseen (the payload is never trusted)."""
    service_id = await owner_conn.fetchval(
        "insert into services (name, slug, is_active) values ('Audit', 'cached-audit', true)"
        " returning id"
    )
    with run_server(settings) as base:
        await _warm(base, SLUG)
        version = await owner_conn.fetchval(
            "select version from cache_topics where topic = 'services'"
        )

        async def forge() -> None:  # keeps announcing the version the change will get
            while True:
                await app_conn.execute(
                    "select pg_notify('dreamer_cache', $1)", f"services:{version + 1}"
                )
                await asyncio.sleep(0.05)

        forger = asyncio.create_task(forge())
        try:
            await asyncio.sleep(0.3)
            await _every_worker(base, SLUG)  # recached under the forged version, if trusted
            at = await _change(
                owner_conn, "update services set name = 'v5' where id = $1", service_id
            )
            stale = await _stale_for(base, SLUG, lambda r: r.json()["data"]["name"] == "v5", at)
        finally:
            forger.cancel()
        assert stale < BOUND, stale
