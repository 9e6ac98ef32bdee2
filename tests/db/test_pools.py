"""The raw asyncpg pools (the rate limits' and the public reads'): a connection the server
drops, or one it refuses to open, is a 503 problem with Retry-After, never a 500, and the next
request after the server is back succeeds. The pools are fixed: a burst queues for their
connections instead of opening (and closing) new backends."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from tests.conftest import AppWith
from tests.harness import ClonedDatabase, Cluster

FORM = {"name": "Pool Test", "email": "pool@example.com", "message": "Hello there"}


async def _terminate(admin: asyncpg.Connection, db: str, *applications: str) -> int:
    killed: int = await admin.fetchval(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity"
        " where datname = $1 and application_name = any($2::text[])",
        db,
        list(applications),
    )
    return killed


async def test_a_dropped_or_refused_connection_is_503_then_recovers(
    client: httpx.AsyncClient, cluster: Cluster, fresh_db: ClonedDatabase
) -> None:
    assert (await client.post("/api/v1/contact", json=FORM)).status_code == 201
    assert (await client.get("/api/v1/services/no-such-service")).status_code == 404
    admin = await asyncpg.connect(cluster.superuser_url)
    try:
        # the app role may open no connection at all, and the pooled ones are gone
        await admin.execute("alter role dreamer_app connection limit 0")
        try:
            pooled = ("dreamer", "dreamer-limits", "dreamer-read")
            assert await _terminate(admin, fresh_db.name, *pooled) >= 3
            for method, path, body in (
                ("POST", "/api/v1/contact", FORM),
                ("GET", "/api/v1/services/no-such-service", None),
            ):
                response = await client.request(method, path, json=body)
                assert response.status_code == 503, (path, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert int(response.headers["retry-after"]) >= 1
                assert "Traceback" not in response.text
        finally:
            await admin.execute("alter role dreamer_app connection limit -1")
        # every connection the pools hand out from now on works (none kept in a broken state)
        for n in range(12):
            form = dict(FORM, email=f"after{n}@example.com")
            assert (await client.post("/api/v1/contact", json=form)).status_code == 201
            assert (await client.get("/api/v1/services/no-such-service")).status_code == 404
    finally:
        await admin.close()


async def test_a_burst_waits_for_the_pools_instead_of_opening_connections(
    app_with: AppWith, cluster: Cluster, fresh_db: ClonedDatabase
) -> None:
    async def sessions(admin: asyncpg.Connection) -> int:
        value: int = await admin.fetchval(
            "select sessions from pg_stat_database where datname = $1", fresh_db.name
        )
        return value

    forms = [dict(FORM, email=f"burst{n}@example.com") for n in range(40)]
    admin = await asyncpg.connect(cluster.superuser_url)
    try:
        async with app_with(rate_limit_contact_ip="100000/60") as client:
            warm = await asyncio.gather(*(client.post("/api/v1/contact", json=f) for f in forms))
            assert {a.status_code for a in warm} == {201}
            before = await sessions(admin)
            for _ in range(3):
                answers = await asyncio.gather(
                    *(client.post("/api/v1/contact", json=f) for f in forms)
                )
                assert {a.status_code for a in answers} == {201}
            # db_pool_size is 4 in tests: 4 + 2 (limits) connections serve 40 at a time; an
            # overflow pool opened and closed connections on every burst
            assert await sessions(admin) - before == 0, "the burst opened new connections"
    finally:
        await admin.close()
