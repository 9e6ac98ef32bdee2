"""Content through the per-worker cache, two worker processes: an edit, an unpublish and a
delete reach every worker within a second; so does a *scheduled* publication or an expiry,
which change what is public without any write; staff always see their drafts."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import asyncpg
import httpx

from dreamer.core.config import Settings
from tests.factories import make_account
from tests.harness import run_server
from tests.test_public_cache import BOUND, _change, _stale_for, _warm

PAGE = "/api/v1/pages/cached-page"
LIST = "/api/v1/pages"


def _slugs(response: httpx.Response) -> set[str]:
    return {p["slug"] for p in response.json()["data"]}


async def _scheduled(owner: asyncpg.Connection, page_id: object, base: str) -> float:
    """Publish the page five seconds from now, warm the list while it is not yet public, and
    return the monotonic moment it goes live."""
    goes_live: dt.datetime = await owner.fetchval(
        "update content_pages set status = 'published',"
        " published_at = clock_timestamp() + interval '5 seconds' where id = $1"
        " returning published_at",
        page_id,
    )
    # the old entries may still answer until this worker has read the notification:
    # let every worker drop them before warming, so what is warmed is the new version
    await asyncio.sleep(BOUND + 0.2)
    await _warm(base, LIST)
    db_now: dt.datetime = await owner.fetchval("select clock_timestamp()")
    return time.monotonic() + (goes_live - db_now).total_seconds()


async def test_changes_and_schedules_reach_every_worker(
    settings: Settings, owner_conn: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    page_id = await owner_conn.fetchval(
        "insert into content_pages (title, slug, content, status, published_at)"
        " values ('v1', 'cached-page', '{\"blocks\": []}', 'published', now()) returning id"
    )
    staff = await make_account(client, owner_conn, "editor@example.com", role="admin")
    with run_server(settings) as base:
        await _warm(base, PAGE)
        at = await _change(
            owner_conn, "update content_pages set title = 'v2' where id = $1", page_id
        )
        stale = await _stale_for(base, PAGE, lambda r: r.json()["data"]["title"] == "v2", at)
        assert stale < BOUND, stale

        # unpublished: 404 for the public, still the draft for staff (never from the cache)
        await _warm(base, PAGE)
        at = await _change(
            owner_conn,
            "update content_pages set status = 'draft', published_at = null where id = $1",
            page_id,
        )
        stale = await _stale_for(base, PAGE, lambda r: r.status_code == 404, at)
        assert stale < BOUND, stale
        async with httpx.AsyncClient(base_url=base, headers=staff.auth) as http:
            for _ in range(6):
                seen = await http.get(PAGE)
                assert seen.status_code == 200 and seen.json()["data"]["status"] == "draft"
                assert seen.headers["cache-control"] == "private, no-store"
                listed = await http.get(LIST)
                assert "cached-page" in _slugs(listed) and "x-cache" not in listed.headers

        # scheduled a few seconds ahead: nothing is written when it goes live. Before then the
        # list is served from the cache without it (a loaded machine may drop an entry now and
        # then, or run late for the schedule: then schedule again, a few times at most).
        await _warm(base, LIST)
        for _attempt in range(4):
            live_at = await _scheduled(owner_conn, page_id, base)
            if live_at - time.monotonic() < 0.5:
                continue
            async with httpx.AsyncClient(base_url=base) as http:
                early = [await http.get(LIST) for _ in range(3)]
            hits = [r for r in early if r.headers["x-cache"] == "hit"]
            assert all("cached-page" not in _slugs(r) for r in hits)  # kept before it was live
            if len(hits) == len(early):
                break
        else:
            raise AssertionError("the list was never served from the cache before going live")
        await asyncio.sleep(max(0.0, live_at - time.monotonic()))
        stale = await _stale_for(base, LIST, lambda r: "cached-page" in _slugs(r), live_at)
        assert stale < BOUND, stale

        # an expiry, likewise
        await _warm(base, PAGE)
        ends = await owner_conn.fetchval(
            "update content_pages set expires_at = clock_timestamp() + interval '5 seconds'"
            " where id = $1 returning expires_at",
            page_id,
        )
        await _warm(base, PAGE)
        db_now = await owner_conn.fetchval("select clock_timestamp()")
        ended_at = time.monotonic() + (ends - db_now).total_seconds()
        await asyncio.sleep(max(0.0, ended_at - time.monotonic()))
        stale = await _stale_for(base, PAGE, lambda r: r.status_code == 404, ended_at)
        assert stale < BOUND, stale

        await owner_conn.execute(
            "update content_pages set expires_at = null where id = $1", page_id
        )
        await _warm(base, PAGE)
        at = await _change(owner_conn, "delete from content_pages where id = $1", page_id)
        stale = await _stale_for(base, PAGE, lambda r: r.status_code == 404, at)
        assert stale < BOUND, stale
