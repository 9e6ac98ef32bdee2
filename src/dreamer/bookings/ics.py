"""RFC 5545 calendar files for bookings.

The UID is stable (the booking id), SEQUENCE is the booking's ``sequence`` (the database bumps
it on every change of time, status or link), and a cancelled booking is sent as METHOD:CANCEL so
calendars remove the event.
"""

from __future__ import annotations

import datetime as dt

from dreamer.models import BookingStatus, ServiceBooking

PRODID = "-//Dreamer AI Solutions//Consultations//EN"
_STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",
}


def _text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF and a space."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def calendar(
    booking: ServiceBooking, *, service_name: str, organizer: str, attendee: str | None
) -> str:
    cancelled = booking.status == BookingStatus.CANCELLED
    end = booking.scheduled_at + dt.timedelta(minutes=booking.duration_minutes)
    description = f"{service_name} ({booking.consultation_type.value} consultation)"
    if booking.meeting_link:
        description += f"\nJoin: {booking.meeting_link}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'REQUEST'}",
        "BEGIN:VEVENT",
        f"UID:{booking.id}@dreamer",
        f"DTSTAMP:{_utc(booking.updated_at)}",
        f"DTSTART:{_utc(booking.scheduled_at)}",
        f"DTEND:{_utc(end)}",
        f"SEQUENCE:{booking.sequence}",
        f"STATUS:{_STATUS[booking.status]}",
        f"SUMMARY:{_text(service_name)}",
        f"DESCRIPTION:{_text(description)}",
        f"ORGANIZER;CN=Dreamer AI Solutions:mailto:{organizer}",
    ]
    if booking.meeting_link:
        lines += [f"LOCATION:{_text(booking.meeting_link)}", f"URL:{booking.meeting_link}"]
    if attendee:
        lines.append(f"ATTENDEE;ROLE=REQ-PARTICIPANT:mailto:{attendee}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
