"""Wire format of availability and bookings (the original contract's field names)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from dreamer.bookings.availability import parse_hours, zone
from dreamer.core.responses import ApiModel, InputModel
from dreamer.core.timebounds import Day, Moment
from dreamer.models import BookingStatus, ConsultationType


def _zone_name(name: str) -> str:
    zone(name)
    return name


TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_zone_name)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
HoursList = list[Annotated[list[str], Field(min_length=2, max_length=2)]]


class SlotOut(ApiModel):
    start: dt.datetime
    end: dt.datetime


class AvailabilityOut(ApiModel):
    service: str
    time_zone: str
    duration_minutes: int
    slots: list[SlotOut]


class BookingIn(InputModel):
    service_id: Annotated[str, Field(min_length=1, max_length=200, description="id or slug")]
    consultation_type: ConsultationType = ConsultationType.DISCOVERY
    scheduled_at: Moment
    time_zone: TimeZoneName = "UTC"
    notes: Annotated[str, StringConstraints(max_length=10_000)] | None = None


class RescheduleIn(InputModel):
    scheduled_at: Moment
    time_zone: TimeZoneName | None = None


class CancelIn(InputModel):
    reason: Reason | None = None


class ConfirmIn(InputModel):
    meeting_link: Annotated[str, StringConstraints(max_length=2000, pattern=r"^https://\S+$")]


class BookingPatch(InputModel):
    internal_notes: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    meeting_link: (
        Annotated[str, StringConstraints(max_length=2000, pattern=r"^https://\S+$")] | None
    ) = None


@dataclass(frozen=True)
class BookingFilter:
    """The booking list's filters (the ORM path for staff, the raw path for a client)."""

    status: BookingStatus | None = None
    service_id: uuid.UUID | None = None
    starts_from: dt.datetime | None = None
    starts_before: dt.datetime | None = None


class BookingOut(ApiModel):
    id: uuid.UUID
    user_id: uuid.UUID | None
    service_id: uuid.UUID
    consultation_type: ConsultationType
    scheduled_at: dt.datetime
    ends_at: dt.datetime
    duration_minutes: int
    time_zone: str
    status: BookingStatus
    meeting_link: str | None
    notes: str | None
    cancellation_reason: str | None
    cancelled_at: dt.datetime | None
    completed_at: dt.datetime | None
    reminder_sent: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class StaffBookingOut(BookingOut):
    internal_notes: str | None
    history: list[dict[str, Any]]


class AvailabilitySettingsIn(InputModel):
    time_zone: TimeZoneName | None = None
    weekly_hours: dict[str, HoursList] | None = None
    slot_minutes: int | None = Field(default=None, ge=5, le=240)
    min_notice_minutes: int | None = Field(default=None, ge=0, le=60 * 24 * 60)
    horizon_days: int | None = Field(default=None, ge=1, le=730)
    buffer_minutes: int | None = Field(default=None, ge=0, le=240)
    cancel_cutoff_minutes: int | None = Field(default=None, ge=0, le=60 * 24 * 30)
    reminder_minutes: int | None = Field(default=None, ge=0, le=60 * 24 * 30)

    @field_validator("weekly_hours")
    @classmethod
    def _weekdays(cls, value: dict[str, HoursList] | None) -> dict[str, HoursList] | None:
        if value is None:
            return None
        for day, hours in value.items():
            if day not in {"1", "2", "3", "4", "5", "6", "7"}:
                raise ValueError("weekdays are ISO numbers '1' (Monday) to '7' (Sunday)")
            parse_hours(hours)
        return value


class AvailabilitySettingsOut(ApiModel):
    time_zone: str
    weekly_hours: dict[str, Any]
    slot_minutes: int
    min_notice_minutes: int
    horizon_days: int
    buffer_minutes: int
    cancel_cutoff_minutes: int
    reminder_minutes: int


class ExceptionIn(InputModel):
    date: Day
    is_closed: bool = True
    hours: HoursList = Field(default_factory=list)
    reason: Reason | None = None

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: HoursList) -> HoursList:
        parse_hours(value)
        return value


class ExceptionOut(ApiModel):
    id: uuid.UUID
    date: dt.date
    is_closed: bool
    hours: list[Any]
    reason: str | None
