"""Privacy-first analytics: events in (one statement per batch), reports out (from roll-ups).

What an event keeps (the database enforces the first two): the visitor as a hash salted for
the day (of the client's visitor id if it sends one, else of its IP and user agent), so no one
is followed across days; the network truncated to a /24 (IPv4) or /48 (IPv6); a browser, OS
and device class instead of the user agent; the page's path, and its URL without any query
but the ``utm_*`` tags (links carry tokens); the referrer's host only. A browser that sends
``DNT: 1`` or ``Sec-GPC: 1`` is not recorded at all (still 202). A signed-in caller's events
carry their account (for their GDPR export); nothing else identifies a person.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.analytics import repository
from dreamer.analytics.agents import Agent, classify
from dreamer.analytics.schemas import CUSTOM, EVENT_TYPES, EventIn, WebVitalIn
from dreamer.core.errors import ValidationFailed
from dreamer.core.timebounds import midnight, report_days
from dreamer.db.session import RequestContext

__all__ = ["Agent", "classify"]  # re-exported for the legacy import

UTM = ("utm_source", "utm_medium", "utm_campaign")
MAX_FUNNEL_STEPS = 8


def opted_out(headers: Mapping[str, str]) -> bool:
    """The browser asked not to be tracked (Do Not Track, or Global Privacy Control)."""
    return headers.get("dnt", "").strip() == "1" or headers.get("sec-gpc", "").strip() == "1"


def network(ip: object) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) an address (or ``inet`` value) belongs to: what is kept."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_interface(str(ip)).ip
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _text(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] if value else None


def page_parts(url: str | None) -> tuple[str | None, str | None, dict[str, str | None]]:
    """(URL without query but utm tags, path, utm tags) of a page URL or path."""
    tags: dict[str, str | None] = dict.fromkeys(UTM)
    if not url:
        return None, None, tags
    try:
        parts = urlsplit(url)
    except ValueError:
        return None, None, tags
    if parts.scheme not in ("http", "https", ""):
        return None, None, tags
    kept = []
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        if key in tags and tags[key] is None:
            tags[key] = _text(value, 100)
            kept.append((key, value))
    path = _text(parts.path or "/", 500)
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(kept), ""))
    return clean[:2000], path, tags


def _referrer(url: str | None, page_host: str | None) -> str | None:
    """The referring site's host (not the site's own pages, not a non-web scheme)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.scheme not in ("http", "https", "android-app") or not host:
        return None
    if page_host and host == page_host.lower().removeprefix("www."):
        return None
    return host[:255]


def _row(event: EventIn) -> dict[str, Any]:
    page_url, path, tags = page_parts(event.page_url)
    host = urlsplit(page_url).hostname if page_url else None
    return {
        "event_type": event.event_type,
        "page_url": page_url,
        "path": path,
        "referrer": _referrer(event.referrer, host),
        **tags,
        "properties": event.properties,
        "session_id": event.session_id,
        "at": event.timestamp.isoformat() if event.timestamp else None,
    }


async def ingest(session: AsyncSession, ctx: RequestContext, events: Sequence[EventIn]) -> int:
    """Store a batch from one client in one statement (events and roll-ups); the count."""
    if not events:
        return 0
    agent = classify(ctx.user_agent)
    visitor = next((e.visitor_id for e in events if e.visitor_id), None)
    key = f"v:{visitor}" if visitor else f"a:{ctx.ip or ''}|{ctx.user_agent or ''}"
    rows = orjson.dumps([_row(e) for e in events]).decode()
    return await repository.ingest(
        session, rows, key, network(ctx.ip), agent.browser, agent.os, agent.device
    )


def web_vital(vital: WebVitalIn) -> EventIn:
    """A Web Vitals report as the event it is stored as (``web_vital``)."""
    properties: dict[str, str | int | float | bool | None] = {
        "metric": vital.metric,
        "value": vital.value,
    }
    if vital.score is not None:
        properties["score"] = vital.score
    return EventIn(
        event_type="web_vital", page_url=vital.url, properties=properties, timestamp=vital.timestamp
    )


# -- reports ------------------------------------------------------------------------------


async def traffic(
    session: AsyncSession, day_from: dt.date | None, day_to: dt.date | None, interval: str
) -> dict[str, Any]:
    """Page views, visitors and events per day or ISO week (Monday), with the totals."""
    start, to = report_days(day_from, day_to)
    points = await repository.traffic(session, start, to, interval)
    return {
        "interval": interval,
        "points": points,
        **{k: sum(p[k] for p in points) for k in ("page_views", "visitors", "events")},
    }


async def top_pages(
    session: AsyncSession, day_from: dt.date | None, day_to: dt.date | None, limit: int
) -> list[dict[str, Any]]:
    start, to = report_days(day_from, day_to)
    return await repository.top_pages(session, start, to, limit)


async def sources(
    session: AsyncSession, day_from: dt.date | None, day_to: dt.date | None, limit: int
) -> dict[str, list[dict[str, Any]]]:
    start, to = report_days(day_from, day_to)
    return {
        key: await repository.top_sources(session, start, to, column, limit)
        for key, column in (
            ("referrers", "referrer"),
            ("utm_sources", "utm_source"),
            ("utm_mediums", "utm_medium"),
            ("utm_campaigns", "utm_campaign"),
        )
    }


async def event_types(
    session: AsyncSession, day_from: dt.date | None, day_to: dt.date | None
) -> list[dict[str, Any]]:
    start, to = report_days(day_from, day_to)
    return await repository.event_types(session, start, to)


def _step(raw: str) -> tuple[str, str | None]:
    """A funnel step: an event type, or ``page:/path`` (a page view of that path)."""
    if raw.startswith("page:"):
        path = raw.removeprefix("page:").strip()
        if not path.startswith("/") or len(path) > 500:
            raise ValidationFailed(f"funnel step {raw!r}: page steps are page:/path")
        return "page_view", path
    if raw in EVENT_TYPES or CUSTOM.fullmatch(raw):
        return raw, None
    raise ValidationFailed(f"funnel step {raw!r}: an event type or page:/path")


async def funnel(
    session: AsyncSession,
    steps: Sequence[str],
    day_from: dt.date | None,
    day_to: dt.date | None,
    window_minutes: int,
) -> dict[str, Any]:
    """Sessions that did the steps in order, each within ``window_minutes`` of the first."""
    if not 2 <= len(steps) <= MAX_FUNNEL_STEPS:
        raise ValidationFailed(f"a funnel has 2 to {MAX_FUNNEL_STEPS} steps")
    parsed = [_step(s) for s in steps]
    start, to = report_days(day_from, day_to)
    counts = await repository.funnel(
        session, parsed, midnight(start), midnight(to + dt.timedelta(days=1)), window_minutes
    )
    first = counts[0] or 0
    return {
        "window_minutes": window_minutes,
        "steps": [
            {"step": name, "sessions": n, "conversion": round(n / first, 4) if first else 0.0}
            for name, n in zip(steps, counts, strict=True)
        ],
    }


async def lead_funnel(
    session: AsyncSession, day_from: dt.date | None, day_to: dt.date | None
) -> dict[str, Any]:
    """Visits → contact form → lead → booking → converted, per lead source and in total."""
    start, to = report_days(day_from, day_to)
    await repository.refresh_business(session)
    visits, forms = await repository.visits_and_forms(session, start, to)
    rows = await repository.lead_stages(session, start, to)
    by_source = [
        {
            **row,
            "visits": visits if row["source"] == "website" else None,
            "contact_forms": forms if row["source"] == "website" else None,
        }
        for row in rows
    ]
    total = {
        "source": "all",
        "visits": visits,
        "contact_forms": forms,
        **{k: sum(r[k] for r in rows) for k in ("leads", "booked", "converted")},
    }
    return {"total": total, "by_source": by_source}


async def revenue(
    session: AsyncSession, day_from: dt.date | None, day_to: dt.date | None
) -> list[dict[str, Any]]:
    """Completed bookings and their services' prices, per month of the meeting."""
    start, to = report_days(day_from, day_to)
    await repository.refresh_business(session)
    return await repository.revenue(session, start, to)


async def users(
    session: AsyncSession, day_from: dt.date | None, day_to: dt.date | None
) -> list[dict[str, Any]]:
    """New accounts per day and role."""
    start, to = report_days(day_from, day_to)
    return await repository.new_users(session, midnight(start), midnight(to + dt.timedelta(days=1)))


async def dashboard(session: AsyncSession, days: int) -> dict[str, Any]:
    """The original backend's dashboard: the last ``days`` days at a glance."""
    to = dt.datetime.now(dt.UTC).date()
    start = to - dt.timedelta(days=days - 1)
    points = await repository.traffic(session, start, to, "day")
    await repository.refresh_business(session)
    counts = await repository.business_counts(session, start, to)
    return {
        "days": days,
        **{k: sum(p[k] for p in points) for k in ("page_views", "visitors", "events")},
        "top_pages": await repository.top_pages(session, start, to, 10),
        "top_referrers": await repository.top_sources(session, start, to, "referrer", 10),
        "events_by_type": await repository.event_types(session, start, to),
        **counts,
    }
