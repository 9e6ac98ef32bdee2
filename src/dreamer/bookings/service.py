"""Availability, booking, the status workflow, reschedule and cancel.

The service checks every rule first to give a precise error; the database enforces the two that
matter most whatever the caller does: no overlapping active bookings (exclusion constraint) and
legal status transitions (trigger).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.bookings import repository
from dreamer.bookings.availability import Rules, free_starts, is_free_start, parse_hours, zone
from dreamer.bookings.ics import calendar
from dreamer.bookings.schemas import BookingFilter, BookingIn, BookingPatch
from dreamer.catalog import service as catalog
from dreamer.core import clock
from dreamer.core.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from dreamer.core.pagination import decode_cursor, split_page
from dreamer.db.session import RequestContext
from dreamer.mail import outbox
from dreamer.models import BookingStatus, ServiceBooking, User, UserRole
from dreamer.users import service as users

TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.PENDING: frozenset({BookingStatus.CONFIRMED, BookingStatus.CANCELLED}),
    BookingStatus.CONFIRMED: frozenset(
        {BookingStatus.COMPLETED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW}
    ),
}
ACTIVE = frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED})
MAX_WINDOW = dt.timedelta(days=62)


async def rules(session: AsyncSession) -> Rules:
    settings = await repository.settings(session)
    today = clock.now().date()
    exceptions = await repository.exceptions(
        session, today - dt.timedelta(days=1), today + dt.timedelta(days=settings.horizon_days + 2)
    )
    return Rules(
        time_zone=settings.time_zone,
        weekly_hours={int(day): parse_hours(hours) for day, hours in settings.weekly_hours.items()},
        exceptions={e.date: ([] if e.is_closed else parse_hours(e.hours)) for e in exceptions},
        slot_minutes=settings.slot_minutes,
        min_notice_minutes=settings.min_notice_minutes,
        horizon_days=settings.horizon_days,
        buffer_minutes=settings.buffer_minutes,
    )


@dataclass(frozen=True)
class Availability:
    service_slug: str
    time_zone: str
    duration_minutes: int
    starts: list[dt.datetime]


async def availability(
    session: AsyncSession, slug: str, start: dt.datetime | None, end: dt.datetime | None, tz: str
) -> Availability:
    asker = zone(tz)
    service = await catalog.get_active(session, slug)
    now = clock.now()
    start = _aware(start, asker) if start else now
    end = _aware(end, asker) if end else start + dt.timedelta(days=14)
    if end <= start or end - start > MAX_WINDOW:
        raise ValidationFailed("`to` must be after `from`, at most 62 days later")
    current = await rules(session)
    busy = await repository.busy(session, start, end + dt.timedelta(days=1))
    starts = free_starts(
        current,
        duration_minutes=service.duration_minutes,
        busy=busy,
        window_start=start,
        window_end=end,
        now=now,
    )
    return Availability(
        service.slug, tz, service.duration_minutes, [s.astimezone(asker) for s in starts]
    )


def _aware(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Naive times are read in the given zone; everything is compared in UTC."""
    return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(dt.UTC)


async def _user(session: AsyncSession, user_id: uuid.UUID | None) -> User:
    user = await users.find(session, user_id) if user_id else None
    if user is None:
        raise NotFound("The booking's client no longer exists")
    return user


async def _mail(session: AsyncSession, template: str, booking: ServiceBooking) -> None:
    """Mail the booking's client (the database reads the address from the booking)."""
    await outbox.queue(session, template, booking.id)


async def _conflict_detail(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, except_id: uuid.UUID | None = None
) -> Conflict:
    clash = await repository.busy(session, start, end, except_id)
    extra: dict[str, Any] = {}
    if clash:
        extra["conflict"] = {"start": clash[0][0].isoformat(), "end": clash[0][1].isoformat()}
    return Conflict(
        f"The slot {start.isoformat()} is taken: it overlaps another booking"
        + (
            f" ({extra['conflict']['start']} to {extra['conflict']['end']}, buffer included)"
            if clash
            else ""
        ),
        extra=extra,
    )


async def _check_slot(
    session: AsyncSession, start: dt.datetime, duration: int, except_id: uuid.UUID | None = None
) -> int:
    """Raise unless ``start`` is a currently free slot; returns the buffer to book with. Until
    the transaction ends no other one can place a booking (``repository.lock_calendar``)."""
    await repository.lock_calendar(session)
    current = await rules(session)
    end = start + dt.timedelta(minutes=duration + current.buffer_minutes)
    busy = await repository.busy(session, start - dt.timedelta(days=1), end, except_id)
    if is_free_start(current, start, duration_minutes=duration, busy=busy, now=clock.now()):
        return current.buffer_minutes
    if is_free_start(current, start, duration_minutes=duration, busy=[], now=clock.now()):
        raise await _conflict_detail(session, start, end, except_id)
    raise ValidationFailed(
        "That is not a bookable start time: see GET /api/v1/services/{slug}/availability "
        "(business hours, minimum notice and booking horizon apply)"
    )


async def create(
    session: AsyncSession, ctx: RequestContext, asked: BookingIn, idempotency_key: str | None
) -> tuple[ServiceBooking, bool]:
    """Book a free slot; returns (booking, created). A replayed Idempotency-Key returns the
    booking it made the first time."""
    if ctx.user_id is None:
        raise Unauthorized("Register or sign in to book a consultation")
    if ctx.role not in (UserRole.VISITOR, UserRole.CLIENT):
        raise Forbidden("Bookings are made by clients; staff manage them")
    if idempotency_key:
        earlier = await repository.by_idempotency_key(session, ctx.user_id, idempotency_key)
        if earlier is not None:
            return earlier, False
    service = await catalog.resolve(session, asked.service_id)
    start = _aware(asked.scheduled_at, zone(asked.time_zone))
    buffer = await _check_slot(session, start, service.duration_minutes)
    booking = ServiceBooking(
        id=uuid.uuid4(),
        user_id=ctx.user_id,
        service_id=service.id,
        consultation_type=asked.consultation_type,
        scheduled_at=start,
        duration_minutes=service.duration_minutes,
        buffer_minutes=buffer,
        time_zone=asked.time_zone,
        notes=asked.notes,
        idempotency_key=idempotency_key,
        metadata_={
            "history": [
                {
                    "event": "requested",
                    "at": clock.now().isoformat(),
                    "scheduled_at": start.isoformat(),
                }
            ]
        },
    )
    try:
        async with session.begin_nested():
            session.add(booking)
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
        if constraint == "service_bookings_idempotency_key" and idempotency_key:
            earlier = await repository.by_idempotency_key(session, ctx.user_id, idempotency_key)
            if earlier is not None:
                return earlier, False
        if constraint == "service_bookings_no_overlap":
            end = start + dt.timedelta(minutes=service.duration_minutes + buffer)
            raise await _conflict_detail(session, start, end) from None
        raise
    await _mail(session, "booking_requested", booking)
    return await _reload(session, booking.id), True


async def _reload(session: AsyncSession, booking_id: uuid.UUID) -> ServiceBooking:
    booking = await repository.get(session, booking_id)
    if booking is None:
        raise NotFound("No such booking")
    return booking


async def get(session: AsyncSession, booking_id: uuid.UUID) -> ServiceBooking:
    """RLS shows a client only their own bookings: another's is simply not found."""
    return await _reload(session, booking_id)


async def page(
    session: AsyncSession,
    ctx: RequestContext,
    filters: BookingFilter,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[ServiceBooking], str | None]:
    after = decode_cursor(cursor) if cursor else None
    user_id = None if ctx.is_staff else ctx.user_id
    rows = await repository.page(session, filters, user_id=user_id, after=after, limit=limit + 1)
    return split_page(rows, limit, lambda b: (b.scheduled_at, b.id))


async def own_page(
    conn: asyncpg.Connection,
    ctx: RequestContext,
    filters: BookingFilter,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Mapping[str, Any]], str | None]:
    """``page()`` for a caller who is not staff (their own bookings), read in
    ``PublicReader.as_caller(ctx)``."""
    assert ctx.user_id is not None
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.own_page(
        conn, filters, user_id=ctx.user_id, after=after, limit=limit + 1
    )
    return split_page(rows, limit, lambda b: (b["scheduled_at"], b["id"]))


def _history(booking: ServiceBooking, ctx: RequestContext, event: str, **facts: Any) -> None:
    entry = {"event": event, "at": clock.now().isoformat(), "by": str(ctx.user_id), **facts}
    booking.metadata_ = {
        **booking.metadata_,
        "history": [*booking.metadata_.get("history", []), entry],
    }


async def _locked(session: AsyncSession, booking_id: uuid.UUID) -> ServiceBooking:
    booking = await repository.get(session, booking_id, lock=True)
    if booking is None:
        raise NotFound("No such booking")
    return booking


def can_move(current: BookingStatus, target: BookingStatus) -> bool:
    """The booking workflow (the ``booking_status_guard`` trigger enforces the same)."""
    return target in TRANSITIONS.get(current, frozenset())


def _require_transition(booking: ServiceBooking, target: BookingStatus) -> None:
    if not can_move(booking.status, target):
        raise Conflict(f"A {booking.status.value} booking cannot become {target.value}")


def _require_owner_in_time(
    booking: ServiceBooking, ctx: RequestContext, cutoff: int, action: str
) -> None:
    if ctx.is_staff:
        return
    if booking.user_id != ctx.user_id:
        raise NotFound("No such booking")
    if booking.scheduled_at - clock.now() < dt.timedelta(minutes=cutoff):
        raise Conflict(
            f"Too late to {action} online: less than {cutoff // 60} hours before the "
            "start. Please contact us."
        )


async def confirm(
    session: AsyncSession, ctx: RequestContext, booking_id: uuid.UUID, meeting_link: str
) -> ServiceBooking:
    """Staff confirm with the meeting link; the client's first confirmed booking makes a
    visitor a client."""
    booking = await _locked(session, booking_id)
    _require_transition(booking, BookingStatus.CONFIRMED)
    booking.status, booking.meeting_link = BookingStatus.CONFIRMED, meeting_link
    _history(booking, ctx, "confirmed")
    user = await _user(session, booking.user_id)
    await users.promote_to_client(session, user)
    await session.flush()
    await _mail(session, "booking_confirmed", booking)
    return await _reload(session, booking_id)


async def finish(
    session: AsyncSession, ctx: RequestContext, booking_id: uuid.UUID, outcome: BookingStatus
) -> ServiceBooking:
    """Staff mark a confirmed booking completed or no_show."""
    booking = await _locked(session, booking_id)
    _require_transition(booking, outcome)
    booking.status = outcome
    _history(booking, ctx, outcome.value)
    await session.flush()
    return await _reload(session, booking_id)


async def cancel(
    session: AsyncSession, ctx: RequestContext, booking_id: uuid.UUID, reason: str | None
) -> ServiceBooking:
    booking = await _locked(session, booking_id)
    settings = await repository.settings(session)
    _require_owner_in_time(booking, ctx, settings.cancel_cutoff_minutes, "cancel")
    _require_transition(booking, BookingStatus.CANCELLED)
    if not ctx.is_staff and not reason:
        raise ValidationFailed("Tell us why you cancel (reason)")
    booking.status, booking.cancellation_reason = BookingStatus.CANCELLED, reason
    _history(booking, ctx, "cancelled", reason=reason)
    await session.flush()
    await _mail(session, "booking_cancelled", booking)
    return await _reload(session, booking_id)


async def reschedule(
    session: AsyncSession,
    ctx: RequestContext,
    booking_id: uuid.UUID,
    scheduled_at: dt.datetime,
    time_zone: str | None,
) -> ServiceBooking:
    """Move an active booking to another free slot in one statement; its history keeps the
    old time. Into a taken slot → 409 and nothing changes."""
    booking = await _locked(session, booking_id)
    settings = await repository.settings(session)
    _require_owner_in_time(booking, ctx, settings.cancel_cutoff_minutes, "reschedule")
    if booking.status not in ACTIVE:
        raise Conflict(f"A {booking.status.value} booking cannot be rescheduled")
    tz_name = time_zone or booking.time_zone
    start = _aware(scheduled_at, zone(tz_name))
    buffer = await _check_slot(session, start, booking.duration_minutes, except_id=booking.id)
    _history(
        booking,
        ctx,
        "rescheduled",
        **{"from": booking.scheduled_at.isoformat(), "to": start.isoformat()},
    )
    booking.scheduled_at, booking.time_zone, booking.buffer_minutes = start, tz_name, buffer
    booking.reminder_sent, booking.reminder_sent_at = False, None
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        end = start + dt.timedelta(minutes=booking.duration_minutes + buffer)
        raise await _conflict_detail(session, start, end, booking.id) from None
    await _mail(session, "booking_rescheduled", booking)
    return await _reload(session, booking_id)


async def annotate(
    session: AsyncSession, booking_id: uuid.UUID, patch: BookingPatch
) -> ServiceBooking:
    """Staff notes and meeting link (only the fields sent)."""
    booking = await _locked(session, booking_id)
    for key, value in patch.model_dump(exclude_unset=True).items():
        setattr(booking, key, value)
    await session.flush()
    return await _reload(session, booking_id)


async def calendar_file(session: AsyncSession, booking_id: uuid.UUID, *, organizer: str) -> str:
    """The booking as an iCalendar document (see ``bookings.ics``)."""
    booking = await get(session, booking_id)
    service = await catalog.get(session, booking.service_id)
    user = await users.find(session, booking.user_id) if booking.user_id else None
    return calendar(
        booking,
        service_name=service.name,
        organizer=organizer,
        attendee=user.email if user else None,
    )
