"""SQL for analytics: the ingest call, and the reports over the roll-ups (staff, by RLS)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_INGEST = text(
    "select analytics_ingest(cast(:events as jsonb), :visitor, cast(:network as inet),"
    " :browser, :os, :device)"
)


async def ingest(
    session: AsyncSession,
    events: str,
    visitor: str,
    network: str | None,
    browser: str,
    os: str,
    device: str,
) -> int:
    written = await session.scalar(
        _INGEST,
        {
            "events": events,
            "visitor": visitor,
            "network": network,
            "browser": browser,
            "os": os,
            "device": device,
        },
    )
    return int(written or 0)


def _rows(result: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in result]


_TRAFFIC = text(
    """
    with events as (
        select d.day, sum(d.events) filter (where d.event_type = 'page_view') as page_views,
               sum(d.events) as events
        from analytics_daily d where d.day between :start and :to group by d.day
    ), visits as (
        select s.day, sum(s.visits) as visitors
        from analytics_daily_sources s where s.day between :start and :to group by s.day
    )
    select date_trunc(:unit, g.day)::date as period,
           coalesce(sum(e.page_views), 0)::bigint as page_views,
           coalesce(sum(v.visitors), 0)::bigint as visitors,
           coalesce(sum(e.events), 0)::bigint as events
    from generate_series(cast(:start as date), cast(:to as date), interval '1 day') as g(day)
    left join events e on e.day = g.day::date
    left join visits v on v.day = g.day::date
    group by 1 order by 1
    """
)


async def traffic(
    session: AsyncSession, start: dt.date, to: dt.date, unit: str
) -> list[dict[str, Any]]:
    assert unit in ("day", "week")
    return _rows(await session.execute(_TRAFFIC, {"start": start, "to": to, "unit": unit}))


_TOP_PAGES = text(
    """
    select d.path, sum(d.events)::bigint as page_views
    from analytics_daily d
    where d.day between :start and :to and d.event_type = 'page_view' and d.path <> ''
    group by d.path order by page_views desc, d.path limit :n
    """
)


async def top_pages(
    session: AsyncSession, start: dt.date, to: dt.date, limit: int
) -> list[dict[str, Any]]:
    return _rows(await session.execute(_TOP_PAGES, {"start": start, "to": to, "n": limit}))


# one query per column of analytics_daily_sources (the names are fixed here, never input)
_SOURCES = {
    column: text(
        f"""
        select coalesce(nullif(s.{column}, ''), '(none)') as source,
               sum(s.visits)::bigint as visits
        from analytics_daily_sources s where s.day between :start and :to
        group by 1 order by visits desc, source limit :n
        """
    )
    for column in ("referrer", "utm_source", "utm_medium", "utm_campaign")
}


async def top_sources(
    session: AsyncSession, start: dt.date, to: dt.date, column: str, limit: int
) -> list[dict[str, Any]]:
    return _rows(await session.execute(_SOURCES[column], {"start": start, "to": to, "n": limit}))


_TYPES = text(
    """
    select d.event_type, sum(d.events)::bigint as events
    from analytics_daily d where d.day between :start and :to
    group by 1 order by events desc, d.event_type
    """
)


async def event_types(session: AsyncSession, start: dt.date, to: dt.date) -> list[dict[str, Any]]:
    return _rows(await session.execute(_TYPES, {"start": start, "to": to}))


def _match(k: int, path: str | None) -> str:
    return f"e.event_type = :t{k}" + (f" and e.path = :p{k}" if path is not None else "")


async def funnel(
    session: AsyncSession,
    steps: Sequence[tuple[str, str | None]],
    since: dt.datetime,
    until: dt.datetime,
    window_minutes: int,
) -> list[int]:
    """Per step, the sessions that reached it: step 0 first seen in [since, until), each next
    step at or after the previous one and within the window of step 0 (exact counts)."""
    params: dict[str, Any] = {"since": since, "until": until, "w": window_minutes}
    ctes = [
        "s0 as (select e.session_id, min(e.created_at) as t0, min(e.created_at) as t"
        " from analytics_events e where e.created_at >= :since and e.created_at < :until"
        f" and e.session_id is not null and {_match(0, steps[0][1])} group by 1)"
    ]
    for k, (event_type, path) in enumerate(steps):
        params[f"t{k}"] = event_type
        if path is not None:
            params[f"p{k}"] = path
        if k == 0:
            continue
        ctes.append(
            f"s{k} as (select s.session_id, s.t0, min(e.created_at) as t from s{k - 1} s"
            " join analytics_events e on e.session_id = s.session_id"
            " and e.created_at >= s.t and e.created_at >= :since"
            " and e.created_at <= s.t0 + make_interval(mins => :w)"
            f" and e.created_at < cast(:until as timestamptz) + make_interval(mins => :w)"
            f" and {_match(k, path)} group by 1, 2)"
        )
    counts = ", ".join(f"(select count(*) from s{k})" for k in range(len(steps)))
    row = (await session.execute(text(f"with {', '.join(ctes)} select {counts}"), params)).one()
    return [int(n) for n in row]


_REFRESH = text("select report_refresh()")


async def refresh_business(session: AsyncSession) -> int:
    """Recompute the days whose business figures changed since the last refresh (the report_*
    roll-ups; usually none, or today). Returns the days recomputed."""
    return int(await session.scalar(_REFRESH) or 0)


_VISITS_AND_FORMS = text(
    """
    select (select coalesce(sum(s.visits), 0) from analytics_daily_sources s
            where s.day between :start and :to)::bigint as visits,
           (select coalesce(sum(r.forms), 0) from report_daily r
            where r.day between :start and :to)::bigint as forms
    """
)


async def visits_and_forms(session: AsyncSession, start: dt.date, to: dt.date) -> tuple[int, int]:
    row = (await session.execute(_VISITS_AND_FORMS, {"start": start, "to": to})).one()
    return int(row.visits), int(row.forms)


_LEAD_STAGES = text(
    """
    select r.source::text as source, sum(r.leads)::bigint as leads,
           sum(r.booked)::bigint as booked, sum(r.converted)::bigint as converted
    from report_daily_leads r where r.day between :start and :to
    group by 1 having sum(r.leads) > 0 order by 2 desc, 1
    """
)


async def lead_stages(session: AsyncSession, start: dt.date, to: dt.date) -> list[dict[str, Any]]:
    return _rows(await session.execute(_LEAD_STAGES, {"start": start, "to": to}))


# What the completed bookings of a day and service earned: a fixed or workshop price each, an
# hourly rate for their minutes, or a custom service's "starting at" figure each (the least it
# was sold for).
_EARNED = """coalesce(
    (s.pricing ->> 'amount')::numeric * v.completed,
    (s.pricing ->> 'rate')::numeric * v.minutes / 60.0,
    (s.pricing ->> 'startingAt')::numeric * v.completed, 0)"""

_REVENUE = text(
    f"""
    select date_trunc('month', v.day)::date as month,
           coalesce(s.pricing ->> 'currency', 'USD') as currency,
           sum(v.completed)::bigint as bookings, round(sum({_EARNED}), 2)::float8 as revenue
    from report_daily_revenue v join services s on s.id = v.service_id
    where v.day between :start and :to
    group by 1, 2 order by 1, 2
    """
)


async def revenue(session: AsyncSession, start: dt.date, to: dt.date) -> list[dict[str, Any]]:
    return _rows(await session.execute(_REVENUE, {"start": start, "to": to}))


_NEW_USERS = text(
    """
    select (u.created_at at time zone 'UTC')::date as day, u.role::text as role,
           count(*)::bigint as users
    from users u where u.created_at >= :since and u.created_at < :until
    group by 1, 2 order by 1, 2
    """
)


async def new_users(
    session: AsyncSession, since: dt.datetime, until: dt.datetime
) -> list[dict[str, Any]]:
    return _rows(await session.execute(_NEW_USERS, {"since": since, "until": until}))


_BUSINESS = text(
    f"""
    select (select coalesce(sum(r.new_users), 0) from report_daily r
            where r.day between :start and :to)::bigint as new_users,
           (select coalesce(sum(l.leads), 0) from report_daily_leads l
            where l.day between :start and :to)::bigint as new_leads,
           (select coalesce(sum(r.bookings), 0) from report_daily r
            where r.day between :start and :to)::bigint as bookings,
           (select coalesce(round(sum({_EARNED}), 2), 0) from report_daily_revenue v
            join services s on s.id = v.service_id
            where v.day between :start and :to)::float8 as revenue
    """
)


async def business_counts(session: AsyncSession, start: dt.date, to: dt.date) -> dict[str, Any]:
    row = (await session.execute(_BUSINESS, {"start": start, "to": to})).one()
    return dict(row._mapping)
