"""Analytics for staff: traffic, pages, sources, events, funnels, the lead funnel, revenue.

Every report but the funnel reads the daily roll-ups (a few rows per day, whatever the number
of events); days are UTC, `from` and `to` both included, by default the last 30 days.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from dreamer.analytics import service
from dreamer.analytics.schemas import (
    DashboardOut,
    FunnelOut,
    LeadFunnelOut,
    PageCount,
    RevenuePoint,
    SourcesOut,
    StepName,
    TrafficOut,
    TypeCount,
    UserCount,
)
from dreamer.core.responses import Envelope, JSONResponse, ok
from dreamer.deps import DbSession, Staff

router = APIRouter(prefix="/admin/analytics", tags=["admin: analytics"])

From = Annotated[date | None, Query(alias="from", description="UTC day, included")]
To = Annotated[date | None, Query(alias="to", description="UTC day, included")]
Top = Annotated[int, Query(ge=1, le=100)]


@router.get("/traffic", response_model=Envelope[TrafficOut])
async def traffic(
    db: DbSession,
    ctx: Staff,
    day_from: From = None,
    day_to: To = None,
    interval: Literal["day", "week"] = "day",
) -> JSONResponse:
    """Page views, unique visitors and events per day or ISO week (from Monday). A visitor is
    counted once a day (the hash rotates daily), so a week's visitors are its days' summed."""
    report = await service.traffic(db, day_from, day_to, interval)
    return ok(TrafficOut.model_validate(report).model_dump(mode="json"))


@router.get("/pages", response_model=Envelope[list[PageCount]])
async def top_pages(
    db: DbSession, ctx: Staff, day_from: From = None, day_to: To = None, limit: Top = 20
) -> JSONResponse:
    """The most viewed paths."""
    rows = await service.top_pages(db, day_from, day_to, limit)
    return ok([PageCount.model_validate(r).model_dump(mode="json") for r in rows])


@router.get("/sources", response_model=Envelope[SourcesOut])
async def sources(
    db: DbSession, ctx: Staff, day_from: From = None, day_to: To = None, limit: Top = 20
) -> JSONResponse:
    """Visits by referring host and by UTM source, medium and campaign (`(none)`: none)."""
    report = await service.sources(db, day_from, day_to, limit)
    return ok(SourcesOut.model_validate(report).model_dump(mode="json"))


@router.get("/events", response_model=Envelope[list[TypeCount]])
async def event_types(
    db: DbSession, ctx: Staff, day_from: From = None, day_to: To = None
) -> JSONResponse:
    """Events by type."""
    rows = await service.event_types(db, day_from, day_to)
    return ok([TypeCount.model_validate(r).model_dump(mode="json") for r in rows])


@router.get("/funnel", response_model=Envelope[FunnelOut])
async def funnel(
    db: DbSession,
    ctx: Staff,
    steps: Annotated[
        list[StepName],
        Query(
            alias="step",
            description="2 to 8 steps in order, each an event type or `page:/path`: "
            "`?step=page:/services&step=booking_start&step=booking_complete`",
        ),
    ],
    day_from: From = None,
    day_to: To = None,
    window_minutes: Annotated[
        int,
        Query(alias="windowMinutes", ge=1, le=10_080, description="from the first step"),
    ] = 60,
) -> JSONResponse:
    """Sessions that did the steps in this order, each within the window of the first step
    (which falls between `from` and `to`): exact counts from the events themselves."""
    report = await service.funnel(db, steps, day_from, day_to, window_minutes)
    return ok(FunnelOut.model_validate(report).model_dump(mode="json"))


@router.get("/lead-funnel", response_model=Envelope[LeadFunnelOut])
async def lead_funnel(
    db: DbSession, ctx: Staff, day_from: From = None, day_to: To = None
) -> JSONResponse:
    """Website visits → contact-form submissions → leads → leads whose person booked →
    converted leads, in total and by lead source (visits and forms belong to `website`)."""
    report = await service.lead_funnel(db, day_from, day_to)
    return ok(LeadFunnelOut.model_validate(report).model_dump(mode="json"))


@router.get("/revenue", response_model=Envelope[list[RevenuePoint]])
async def revenue(
    db: DbSession, ctx: Staff, day_from: From = None, day_to: To = None
) -> JSONResponse:
    """Completed bookings and what they earned at their service's price, per month and
    currency (hourly services: the rate for the booking's length; custom ones: their
    "starting at" figure)."""
    rows = await service.revenue(db, day_from, day_to)
    return ok([RevenuePoint.model_validate(r).model_dump(mode="json") for r in rows])


@router.get("/users", response_model=Envelope[list[UserCount]])
async def new_users(
    db: DbSession, ctx: Staff, day_from: From = None, day_to: To = None
) -> JSONResponse:
    """New accounts per day and role."""
    rows = await service.users(db, day_from, day_to)
    return ok([UserCount.model_validate(r).model_dump(mode="json") for r in rows])


@router.get("/dashboard", response_model=Envelope[DashboardOut])
async def dashboard(
    db: DbSession, ctx: Staff, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> JSONResponse:
    """The last `days` days at a glance (the original backend's `/api/analytics/dashboard`)."""
    report = await service.dashboard(db, days)
    return ok(DashboardOut.model_validate(report).model_dump(mode="json"))
