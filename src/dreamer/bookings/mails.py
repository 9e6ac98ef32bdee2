"""Booking mails (requested, confirmed, rescheduled, cancelled, reminder): the booking as it is
*now*, in the attendee's time zone, with its calendar file attached."""

from __future__ import annotations

import uuid
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.bookings import repository
from dreamer.bookings.ics import calendar
from dreamer.catalog import service as catalog
from dreamer.core.config import Settings
from dreamer.mail.registry import Attachment, MailContext, QueuedMail, provides
from dreamer.users import service as users

TEMPLATES = (
    "booking_requested",
    "booking_confirmed",
    "booking_rescheduled",
    "booking_cancelled",
    "booking_reminder",
)


@provides(*TEMPLATES)
async def booking_details(
    session: AsyncSession, settings: Settings, mail: QueuedMail
) -> MailContext | None:
    booking = await repository.get(session, uuid.UUID(str(mail.context["booking_id"])))
    if booking is None:
        return None
    service = await catalog.find(session, booking.service_id)
    user = await users.find(session, booking.user_id) if booking.user_id else None
    name = service.name if service else "Consultation"
    ics = calendar(
        booking,
        service_name=name,
        organizer=parseaddr(settings.mail_from)[1],
        attendee=mail.to_address,
    )
    local = booking.scheduled_at.astimezone(ZoneInfo(booking.time_zone))
    return MailContext(
        {
            "first_name": user.first_name if user else None,
            "service_name": name,
            "consultation_type": booking.consultation_type.value,
            "when_local": local.strftime("%A %d %B %Y, %H:%M"),
            "time_zone": booking.time_zone,
            "duration": booking.duration_minutes,
            "meeting_link": booking.meeting_link,
            "reason": booking.cancellation_reason,
        },
        attachments=(Attachment(f"booking-{booking.id}.ics", "text/calendar", ics),),
    )
