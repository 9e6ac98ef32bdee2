"""Availability and consultation bookings."""

from __future__ import annotations

import datetime as dt
import uuid
from email.utils import parseaddr
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from dreamer.bookings import service
from dreamer.bookings.schemas import (
    AvailabilityOut,
    BookingFilter,
    BookingIn,
    BookingOut,
    BookingPatch,
    CancelIn,
    ConfirmIn,
    RescheduleIn,
    StaffBookingOut,
)
from dreamer.core.errors import Unauthorized, ValidationFailed
from dreamer.core.pagination import cursor_meta
from dreamer.core.responses import Envelope, JSONResponse, ok
from dreamer.core.timebounds import Moment
from dreamer.db.session import RequestContext
from dreamer.deps import BEARER_DOCS, Context, DbSession, SettingsDep, SignedIn, Staff, caller
from dreamer.models import BookingStatus, ServiceBooking

router = APIRouter(tags=["bookings"])

IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=200, min_length=8)
]


def out(booking: ServiceBooking, ctx: RequestContext) -> dict[str, object]:
    """Clients never see internal notes (nor the staff-side history)."""
    values = {
        **{c: getattr(booking, c) for c in BookingOut.model_fields if hasattr(booking, c)},
        "ends_at": booking.scheduled_at + dt.timedelta(minutes=booking.duration_minutes),
    }
    if ctx.is_staff:
        values["internal_notes"] = booking.internal_notes
        values["history"] = booking.metadata_.get("history", [])
        return StaffBookingOut.model_validate(values).model_dump(mode="json")
    return BookingOut.model_validate(values).model_dump(mode="json")


@router.get("/services/{slug}/availability", response_model=Envelope[AvailabilityOut])
async def availability(
    slug: str,
    db: DbSession,
    from_: Annotated[Moment | None, Query(alias="from")] = None,
    to: Moment | None = None,
    tz: Annotated[str, Query(max_length=64)] = "UTC",
) -> JSONResponse:
    """Free start times for this service in `[from, to)` (default: the next 14 days), in the
    asker's time zone `tz`. Business hours, date exceptions, minimum notice, the booking
    horizon and buffers between meetings apply."""
    try:
        result = await service.availability(db, slug, from_, to, tz)
    except ValueError as exc:  # an unknown time zone
        raise ValidationFailed(str(exc)) from None
    length = dt.timedelta(minutes=result.duration_minutes)
    return ok(
        {
            "service": result.service_slug,
            "timeZone": result.time_zone,
            "durationMinutes": result.duration_minutes,
            "slots": [
                {"start": s.isoformat(), "end": (s + length).isoformat()} for s in result.starts
            ],
        }
    )


@router.post("/bookings", status_code=201, response_model=Envelope[BookingOut])
async def create_booking(
    body: BookingIn, db: DbSession, ctx: Context, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Book a free slot (signed-in visitors and clients). `serviceId` is the id or the slug.
    A taken slot is a 409 naming the conflict. Send an `Idempotency-Key` header to make
    retries safe: the same key returns the same booking (200), never a second one."""
    booking, created = await service.create(db, ctx, body, idempotency_key)
    response = ok(out(booking, ctx), status=201 if created else 200)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


# A hot signed-in read: it resolves the caller itself (deps.caller); a client's own list
# reads on raw asyncpg, staff's (everyone's, with internal notes) through the ORM.
@router.get("/bookings", response_model=Envelope[list[BookingOut]], dependencies=[BEARER_DOCS])
async def list_bookings(
    request: Request,
    status: BookingStatus | None = None,
    service_id: Annotated[uuid.UUID | None, Query(alias="serviceId")] = None,
    from_: Annotated[Moment | None, Query(alias="from")] = None,
    to: Moment | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    """Your bookings (staff: everyone's), soonest first; filters by status, service and start
    time; `meta.nextCursor` continues the list."""
    ctx, database = await caller(request)
    if not ctx.is_authenticated:
        raise Unauthorized()
    filters = BookingFilter(
        status=status, service_id=service_id, starts_from=from_, starts_before=to
    )
    if not ctx.is_staff:
        async with database.public.as_caller(ctx) as conn:
            own, next_cursor = await service.own_page(
                conn, ctx, filters, cursor=cursor, limit=limit
            )
        data = [BookingOut.model_validate(dict(b)).model_dump(mode="json") for b in own]
        return ok(data, cursor_meta(limit, next_cursor))
    async with database.read(ctx) as db:
        rows, next_cursor = await service.page(db, ctx, filters, cursor=cursor, limit=limit)
    return ok([out(b, ctx) for b in rows], cursor_meta(limit, next_cursor))


@router.get(
    "/bookings/{booking_id}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def booking_calendar(
    booking_id: uuid.UUID, db: DbSession, ctx: SignedIn, settings: SettingsDep
) -> Response:
    """The booking as an iCalendar event (stable UID; SEQUENCE grows with every change;
    METHOD:CANCEL once cancelled)."""
    body = await service.calendar_file(db, booking_id, organizer=parseaddr(settings.mail_from)[1])
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="booking-{booking_id}.ics"'},
    )


@router.get("/bookings/{booking_id}", response_model=Envelope[BookingOut])
async def get_booking(booking_id: uuid.UUID, db: DbSession, ctx: SignedIn) -> JSONResponse:
    """One of your bookings (staff: any); 404 for another client's."""
    return ok(out(await service.get(db, booking_id), ctx))


@router.patch("/bookings/{booking_id}", response_model=Envelope[StaffBookingOut])
async def annotate_booking(
    booking_id: uuid.UUID, body: BookingPatch, db: DbSession, ctx: Staff
) -> JSONResponse:
    """Staff notes and meeting link."""
    booking = await service.annotate(db, booking_id, body)
    return ok(out(booking, ctx))


@router.post("/bookings/{booking_id}/confirm", response_model=Envelope[StaffBookingOut])
async def confirm_booking(
    booking_id: uuid.UUID, body: ConfirmIn, db: DbSession, ctx: Staff
) -> JSONResponse:
    """pending → confirmed, with the meeting link (staff)."""
    return ok(out(await service.confirm(db, ctx, booking_id, body.meeting_link), ctx))


@router.post("/bookings/{booking_id}/complete", response_model=Envelope[StaffBookingOut])
async def complete_booking(booking_id: uuid.UUID, db: DbSession, ctx: Staff) -> JSONResponse:
    """confirmed → completed (staff)."""
    return ok(out(await service.finish(db, ctx, booking_id, BookingStatus.COMPLETED), ctx))


@router.post("/bookings/{booking_id}/no-show", response_model=Envelope[StaffBookingOut])
async def no_show_booking(booking_id: uuid.UUID, db: DbSession, ctx: Staff) -> JSONResponse:
    """confirmed → no_show (staff)."""
    return ok(out(await service.finish(db, ctx, booking_id, BookingStatus.NO_SHOW), ctx))


@router.post("/bookings/{booking_id}/cancel", response_model=Envelope[BookingOut])
async def cancel_booking(
    booking_id: uuid.UUID, body: CancelIn, db: DbSession, ctx: SignedIn
) -> JSONResponse:
    """Cancel: clients their own booking, with a reason, until the cut-off (default 24 h
    before the start); staff at any time."""
    return ok(out(await service.cancel(db, ctx, booking_id, body.reason), ctx))


@router.post("/bookings/{booking_id}/reschedule", response_model=Envelope[BookingOut])
async def reschedule_booking(
    booking_id: uuid.UUID, body: RescheduleIn, db: DbSession, ctx: SignedIn
) -> JSONResponse:
    """Move the booking to another free slot (same cut-off as cancelling for clients)."""
    booking = await service.reschedule(db, ctx, booking_id, body.scheduled_at, body.time_zone)
    return ok(out(booking, ctx))
