"""Analytics in: a batch of 500 in one request, the limits, Do Not Track, what is (not) kept,
the website's Web Vitals through the legacy path, daily salts, partitions and retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json

import asyncpg
import httpx
import pytest

from dreamer.analytics.agents import classify
from dreamer.core.config import Settings
from tests.harness import run_server

EVENTS = "/api/v1/analytics/events"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _batch(n: int, **extra: object) -> list[dict[str, object]]:
    return [
        {
            "eventType": "page_view" if i % 2 == 0 else "cta_click",
            "pageUrl": f"https://dreamer.test/services/{i % 7}?token=SECRET{i}&utm_source=news",
            "referrer": "https://www.google.com/search?q=ai+consulting",
            "properties": {"n": i, "label": f"button {i}"},
            "sessionId": "tab-session-1",
            **extra,
        }
        for i in range(n)
    ]


async def test_a_batch_of_500_is_one_request_and_keeps_nothing_identifying(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    answer = await client.post(EVENTS, json=_batch(500), headers={"User-Agent": CHROME})
    assert answer.status_code == 202, answer.text
    assert answer.json()["data"] == {"accepted": 500, "dropped": 0, "reason": None}
    rows = await owner_conn.fetch("select * from analytics_events")
    assert len(rows) == 500
    row = rows[0]
    assert str(row["ip_address"]) == "203.0.113.0/24"  # the client is 203.0.113.7
    assert (row["browser"], row["os"], row["device"]) == ("Chrome", "Linux", "desktop")
    assert row["session_id"] != "tab-session-1" and len(row["session_id"]) == 32
    assert row["page_url"].endswith("/services/0?utm_source=news")  # the token is gone
    kept = (row["path"], row["referrer"], row["utm_source"])
    assert kept == ("/services/0", "google.com", "news")
    # nothing anywhere in the table holds the address, the agent or the session id as sent
    dump = await owner_conn.fetchval("select string_agg(e::text, ' ') from analytics_events e")
    for raw in ("203.0.113.7", "Mozilla", "tab-session-1", "SECRET"):
        assert raw not in dump
    assert {r["visitor_hash"] for r in rows} == {row["visitor_hash"]}  # one client
    columns = await owner_conn.fetch(
        "select column_name from information_schema.columns where table_name = 'analytics_events'"
    )
    assert "user_agent" not in {c["column_name"] for c in columns}
    # the roll-ups followed in the same statement
    assert await owner_conn.fetchval("select sum(events) from analytics_daily") == 500
    assert await owner_conn.fetchval("select sum(visits) from analytics_daily_sources") == 1


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (_batch(501), None),
        ([{"eventType": "pageview"}], ["body", "0", "eventType"]),
        ([{"eventType": "custom:Bad Name"}], ["body", "0", "eventType"]),
        ([{"eventType": "click", "properties": {f"k{i}": i for i in range(21)}}], None),
        ([{"eventType": "click", "properties": {"long": "x" * 501}}], None),
        ([{"eventType": "click", "properties": {"nested": {"a": 1}}}], None),
        ([{"eventType": "click", "ip": "1.2.3.4"}], ["body", "0", "ip"]),
        ([{"eventType": "click", "timestamp": "not a time"}], None),
        ({"events": []}, None),
        ([], None),
    ],
)
async def test_limits_refuse_the_whole_batch(
    client: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
    body: object,
    where: list[str] | None,
) -> None:
    good = [{"eventType": "page_view", "pageUrl": "/"}]
    payload = [*good, *body] if isinstance(body, list) and body and where else body
    if where:
        where = ["body", str(int(where[1]) + 1), *where[2:]]
    answer = await client.post(EVENTS, json=payload)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if where:
        assert where in [e["loc"] for e in answer.json()["errors"]]
    assert await owner_conn.fetchval("select count(*) from analytics_events") == 0


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    answer = await client.post(EVENTS, content=b"[{", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["status"] == 400


@pytest.mark.parametrize("header", ["DNT", "Sec-GPC"])
async def test_do_not_track_drops_the_events(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, header: str
) -> None:
    answer = await client.post(EVENTS, json=_batch(3), headers={header: "1"})
    assert answer.status_code == 202
    assert answer.json()["data"] == {"accepted": 0, "dropped": 3, "reason": "do-not-track"}
    assert await owner_conn.fetchval("select count(*) from analytics_events") == 0
    assert await owner_conn.fetchval("select count(*) from analytics_daily") == 0


async def test_one_event_or_an_events_object(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    one = await client.post(EVENTS, json={"event_type": "custom:demo.opened", "page_url": "/x"})
    wrapped = await client.post(EVENTS, json={"events": _batch(2)})
    assert (one.status_code, wrapped.status_code) == (202, 202)
    assert one.json()["data"]["accepted"] == 1 and wrapped.json()["data"]["accepted"] == 2
    types = await owner_conn.fetch("select distinct event_type from analytics_events")
    assert "custom:demo.opened" in {t["event_type"] for t in types}


async def test_client_times_are_clamped_to_the_last_day(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    now = dt.datetime.now(dt.UTC)
    times = [
        (now - dt.timedelta(days=30)).isoformat(),  # a month old: one day old
        int((now + dt.timedelta(days=2)).timestamp() * 1000),  # ms, in the future: now
        (now - dt.timedelta(hours=2)).isoformat(),  # kept as sent
    ]
    body = [{"eventType": "click", "timestamp": t} for t in times]
    assert (await client.post(EVENTS, json=body)).status_code == 202
    rows = await owner_conn.fetch("select created_at from analytics_events order by created_at")
    ages = [(now - r["created_at"]).total_seconds() for r in rows]
    assert 86_000 < ages[0] <= 86_400 + 5
    assert 7_100 < ages[1] < 7_300
    assert -5 < ages[2] < 5


async def test_the_websites_web_vitals_through_the_legacy_path(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    vital = {
        "metric": "LCP",
        "value": 2380.4,
        "score": "good",
        "url": "https://dreamer.test/case-studies?utm_campaign=launch",
        "timestamp": int(dt.datetime.now(dt.UTC).timestamp() * 1000),
        "userAgent": IPHONE,
        "id": "v4-1700000000000-123",  # what web-vitals adds is ignored
    }
    legacy = await client.post("/api/analytics/web-vitals", json=vital)
    assert legacy.status_code == 308
    assert legacy.headers["location"].endswith("/api/v1/analytics/web-vitals")
    answer = await client.post(
        legacy.headers["location"], json=vital, headers={"User-Agent": IPHONE}
    )
    assert answer.status_code == 202, answer.text
    row = await owner_conn.fetchrow("select * from analytics_events")
    assert row["event_type"] == "web_vital" and row["path"] == "/case-studies"
    assert row["utm_campaign"] == "launch"
    assert (row["browser"], row["os"], row["device"]) == ("Safari", "iOS", "mobile")
    assert json.loads(row["properties"]) == {"metric": "LCP", "value": 2380.4, "score": "good"}
    bad = await client.post("/api/v1/analytics/web-vitals", json={"metric": "LCP"})
    assert bad.status_code == 422


async def test_visitors_are_hashed_with_a_salt_of_the_day_that_is_then_gone(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    body = [{"eventType": "page_view", "pageUrl": "/", "visitorId": "v-1"}]
    assert (await client.post(EVENTS, json=body)).status_code == 202
    salt = await owner_conn.fetchval("select salt from analytics_salts")
    first = await owner_conn.fetchval("select visitor_hash from analytics_events")
    assert first == hashlib.sha256(salt + b"v:v-1").hexdigest()[:32]
    # the next day (simulated: today's salt becomes yesterday's)
    await owner_conn.execute("update analytics_salts set day = day - 1")
    for table in ("analytics_visits", "analytics_daily_sources"):
        await owner_conn.execute(f"update {table} set day = day - 1")
    assert (await client.post(EVENTS, json=body)).status_code == 202
    hashes = await owner_conn.fetch("select distinct visitor_hash from analytics_events")
    assert len(hashes) == 2  # the same person cannot be linked across days
    assert await owner_conn.fetchval("select count(*) from analytics_salts") == 1
    assert salt != await owner_conn.fetchval("select salt from analytics_salts")
    # and counted once per day, however often they come back that day
    assert (await client.post(EVENTS, json=body * 3)).status_code == 202
    assert (
        await owner_conn.fetchval(
            "select sum(visits) from analytics_daily_sources where day = current_date"
        )
        == 1
    )


async def test_partitions_are_made_ahead_and_old_months_dropped_whole(
    owner_conn: asyncpg.Connection,
) -> None:
    # ahead: the migration (and the worker) made this month and the next three
    parts = {
        r["relname"]
        for r in await owner_conn.fetch(
            "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
            " where i.inhparent = 'analytics_events'::regclass"
        )
    }
    today = dt.date.today().replace(day=1)
    month = today
    for _ in range(4):
        assert f"analytics_events_{month:%Y_%m}" in parts
        month = (month + dt.timedelta(days=32)).replace(day=1)
    # an old month (as a legacy import would have made) with events and roll-ups
    await owner_conn.execute(
        "create table analytics_events_2020_01 partition of analytics_events"
        " for values from ('2020-01-01') to ('2020-02-01')"
    )
    await owner_conn.execute(
        "insert into analytics_events (event_type, created_at) values"
        " ('page_view', '2020-01-15'), ('page_view', now())"
    )
    await owner_conn.execute(
        "insert into analytics_daily (day, event_type, path, events)"
        " values ('2020-01-15', 'page_view', '/', 1)"
    )
    dropped = await owner_conn.fetchval("select analytics_retain(13)")
    assert dropped == 1
    assert await owner_conn.fetchval("select to_regclass('analytics_events_2020_01')") is None
    assert await owner_conn.fetchval("select count(*) from analytics_events") == 1  # this month's
    assert await owner_conn.fetchval("select count(*) from analytics_daily") == 0
    assert await owner_conn.fetchval("select analytics_retain(13)") == 0  # idempotent
    with pytest.raises(asyncpg.InvalidParameterValueError):
        await owner_conn.fetchval("select analytics_retain(0)")


def test_user_agents_become_classes() -> None:
    assert classify(CHROME) == ("Chrome", "Linux", "desktop")
    assert classify(IPHONE) == ("Safari", "iOS", "mobile")
    edge = CHROME.replace("Linux x86_64", "Windows NT 10.0; Win64; x64") + " Edg/131.0.0.0"
    assert classify(edge) == ("Edge", "Windows", "desktop")
    tablet = (
        "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
    )
    assert classify(tablet) == ("Chrome", "Android", "tablet")
    assert classify("Googlebot/2.1 (+http://www.google.com/bot.html)").device == "bot"
    assert classify("curl/8.5.0").device == "bot"
    assert classify(None) == ("Other", "Other", "other")


async def test_concurrent_batches_through_the_server_lose_nothing(
    settings: Settings, owner_conn: asyncpg.Connection
) -> None:
    """24 visitors post batches at once to the same paths (the same roll-up rows): every batch
    is written, none waits forever or deadlocks, and the roll-ups add up exactly."""
    with run_server(settings, RATE_LIMIT_ANALYTICS_IP="1000000/60") as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:

            async def visitor(n: int) -> int:
                body = [
                    {"eventType": "page_view", "pageUrl": f"/p{i % 3}", "visitorId": f"v{n}"}
                    for i in range(50)
                ]
                return (await http.post(EVENTS, json=body)).status_code

            codes = await asyncio.gather(*(visitor(n) for n in range(24)))
    assert codes == [202] * 24
    assert await owner_conn.fetchval("select count(*) from analytics_events") == 24 * 50
    assert await owner_conn.fetchval("select sum(events) from analytics_daily") == 24 * 50
    assert await owner_conn.fetchval("select sum(visits) from analytics_daily_sources") == 24
