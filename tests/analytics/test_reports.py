"""Staff reports on a small data set with known answers: traffic, pages, sources, types, the
ordered funnel (exact, windowed), the lead funnel by source, revenue, the dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import httpx
import pytest

from tests.factories import Account, make_account

EVENTS = "/api/v1/analytics/events"
REPORTS = "/api/v1/admin/analytics"


def _anchor() -> dt.datetime:
    """The moment the visits end: now, unless the half hour before it crosses midnight (UTC);
    then the last second of yesterday, so that every visit falls on one day."""
    now = dt.datetime.now(dt.UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return now if now - midnight > dt.timedelta(minutes=31) else midnight - dt.timedelta(seconds=1)


ANCHOR = _anchor()


def _ago(minutes: int) -> str:
    return (ANCHOR - dt.timedelta(minutes=minutes)).isoformat()


def _event(kind: str, path: str | None, minutes: int, **extra: Any) -> dict[str, Any]:
    url = f"https://dreamer.test{path}" if path else None
    return {"eventType": kind, "pageUrl": url, "timestamp": _ago(minutes), **extra}


VISITS = {
    # A: from Google (a newsletter link), home, services, then the contact form
    "A": [
        _event("page_view", "/?utm_source=news", 30, referrer="https://www.google.com/"),
        _event("page_view", "/services", 29),
        _event("contact_submit", "/contact", 28),
    ],
    # B: typed the address, home then services
    "B": [_event("page_view", "/", 20), _event("page_view", "/services", 19)],
    # C: the contact form first (an old tab), then services from LinkedIn
    "C": [
        _event("contact_submit", "/contact", 10),
        _event("page_view", "/services", 5, referrer="https://linkedin.com/feed"),
    ],
}


@pytest.fixture
async def staff(client: httpx.AsyncClient, owner_conn: asyncpg.Connection) -> Account:
    # B reads pages in a session of its own per tab; the others one session each
    for visitor, events in VISITS.items():
        batch = [{**e, "visitorId": visitor, "sessionId": f"s-{visitor}"} for e in events]
        assert (await client.post(EVENTS, json=batch)).status_code == 202
    return await make_account(client, owner_conn, "analyst@example.com", role="admin")


async def _get(client: httpx.AsyncClient, staff: Account, path: str) -> Any:
    answer = await client.get(f"{REPORTS}{path}", headers=staff.auth)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


async def test_traffic_pages_sources_and_types(client: httpx.AsyncClient, staff: Account) -> None:
    today, day = dt.datetime.now(dt.UTC).date(), ANCHOR.date()
    traffic = await _get(client, staff, "/traffic")
    assert (traffic["pageViews"], traffic["visitors"], traffic["events"]) == (5, 3, 7)
    assert len(traffic["points"]) == 30 and traffic["points"][-1]["period"] == today.isoformat()
    weekly = await _get(client, staff, "/traffic?interval=week")
    monday = day - dt.timedelta(days=day.weekday())
    [week] = [p for p in weekly["points"] if p["period"] == monday.isoformat()]
    assert week == {
        "period": monday.isoformat(),
        "pageViews": 5,
        "visitors": 3,
        "events": 7,
    }
    assert await _get(client, staff, "/pages") == [
        {"path": "/services", "pageViews": 3},
        {"path": "/", "pageViews": 2},
    ]
    sources = await _get(client, staff, "/sources")
    assert sources["referrers"] == [
        {"source": "(none)", "visits": 1},
        {"source": "google.com", "visits": 1},
        {"source": "linkedin.com", "visits": 1},
    ]
    assert sources["utmSources"] == [
        {"source": "(none)", "visits": 2},
        {"source": "news", "visits": 1},
    ]
    assert await _get(client, staff, "/events") == [
        {"eventType": "page_view", "events": 5},
        {"eventType": "contact_submit", "events": 2},
    ]
    before = (day - dt.timedelta(days=1)).isoformat()
    empty = await _get(client, staff, f"/traffic?from={before}&to={before}")
    assert (empty["pageViews"], empty["visitors"]) == (0, 0)


async def test_the_funnel_counts_sessions_in_order_within_the_window(
    client: httpx.AsyncClient, staff: Account
) -> None:
    async def funnel(query: str) -> list[int]:
        report = await _get(client, staff, f"/funnel?{query}")
        return [s["sessions"] for s in report["steps"]]

    assert await funnel("step=page:/&step=page:/services&step=contact_submit") == [2, 2, 1]
    # C submitted the form before it viewed a page: not a conversion of this funnel
    assert await funnel("step=page_view&step=contact_submit") == [3, 1]
    # A took two minutes from home to the form
    assert await funnel("step=page:/&step=contact_submit&windowMinutes=1") == [2, 0]
    assert await funnel("step=page:/&step=contact_submit&windowMinutes=3") == [2, 1]
    report = await _get(client, staff, "/funnel?step=page:/&step=page:/services")
    assert report["steps"][1] == {"step": "page:/services", "sessions": 2, "conversion": 1.0}
    for bad in ("step=page_view", "step=page_view&step=nonsense", "step=page:services&step=x"):
        answer = await client.get(f"{REPORTS}/funnel?{bad}", headers=staff.auth)
        assert answer.status_code == 422, bad


async def test_the_lead_funnel_revenue_and_dashboard(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, staff: Account
) -> None:
    service = await owner_conn.fetchrow(
        "insert into services (name, slug, pricing) values ('Audit', 'audit',"
        ' \'{"type": "fixed", "amount": 500, "currency": "USD"}\')'
        " returning id, 500 as amount, 'USD' as currency"
    )
    booker = await owner_conn.fetchval(
        "insert into users (email, first_name, last_name, role, status)"
        " values ('bea@example.com', 'Bea', 'B', 'client', 'active') returning id"
    )
    await owner_conn.execute(
        "insert into service_bookings (user_id, service_id, scheduled_at, duration_minutes,"
        " status) values ($1, $2, now() - interval '2 days', 60, 'completed')",
        booker,
        service["id"],
    )
    leads = {}
    for email, source, status in (
        ("ann@example.com", "website", "new"),
        ("Bea@Example.com", "website", "converted"),
        ("cid@example.com", "referral", "new"),
    ):
        leads[email] = await owner_conn.fetchval(
            "insert into leads (email, source, status, conversion_date)"
            " values ($1, $2, $3::lead_status, case when $3::text = 'converted' then now() end)"
            " returning id",
            email,
            source,
            status,
        )
    asked = (("ann@example.com", 2), ("Bea@Example.com", 1), ("cid@example.com", 1))
    for email, inquiries in asked:
        for _ in range(inquiries):
            await owner_conn.execute(
                "insert into lead_activities (lead_id, activity_type) values ($1, 'inquiry')",
                leads[email],
            )
    report = await _get(client, staff, "/lead-funnel")
    assert report["total"] == {
        "source": "all",
        "visits": 3,
        "contactForms": 3,
        "leads": 3,
        "booked": 1,
        "converted": 1,
    }
    assert report["bySource"] == [
        {
            "source": "website",
            "visits": 3,
            "contactForms": 3,
            "leads": 2,
            "booked": 1,
            "converted": 1,
        },
        {
            "source": "referral",
            "visits": None,
            "contactForms": None,
            "leads": 1,
            "booked": 0,
            "converted": 0,
        },
    ]
    revenue = await _get(client, staff, "/revenue")
    assert [(r["bookings"], r["revenue"], r["currency"]) for r in revenue] == [
        (1, float(service["amount"]), service["currency"])
    ]
    dashboard = await _get(client, staff, "/dashboard?days=7")
    assert (dashboard["pageViews"], dashboard["visitors"], dashboard["events"]) == (5, 3, 7)
    assert dashboard["newLeads"] == 3 and dashboard["revenue"] == float(service["amount"])
    assert dashboard["topPages"][0] == {"path": "/services", "pageViews": 3}
    users = await _get(client, staff, "/users")
    assert {"role": "client", "users": 1} in [{k: u[k] for k in ("role", "users")} for u in users]
