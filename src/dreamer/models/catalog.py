"""services and service_bookings."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from dreamer.models.base import (
    Base,
    BookingStatus,
    ConsultationType,
    created_at,
    jsonb_array,
    jsonb_object,
    metadata_column,
    pg_enum,
    updated_at,
    uuid_pk,
)


class Service(Base):
    """A consulting offer of the catalogue; ``pricing`` is validated per pricing type."""

    __tablename__ = "services"
    __table_args__ = (
        UniqueConstraint("slug", name="services_slug_key"),
        Index("idx_services_active_sort", "sort_order", "name", postgresql_where=text("is_active")),
        Index("idx_services_previous_slugs", "previous_slugs", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    slug: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    features: Mapped[list[Any]] = jsonb_array()
    pricing: Mapped[dict[str, Any]] = jsonb_object()
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="60")
    is_active: Mapped[bool] = mapped_column(nullable=False, server_default=text("true"))
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    previous_slugs: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    metadata_: Mapped[dict[str, Any]] = metadata_column()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class AvailabilitySettings(Base):
    """The one row of booking rules: hours per ISO weekday in the company's time zone."""

    __tablename__ = "availability_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, server_default="1")
    time_zone: Mapped[str] = mapped_column(Text, nullable=False, server_default="UTC")
    weekly_hours: Mapped[dict[str, Any]] = jsonb_object()
    slot_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="30")
    min_notice_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1440")
    horizon_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default="60")
    buffer_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="15")
    cancel_cutoff_minutes: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default="1440"
    )
    reminder_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1440")
    metadata_: Mapped[dict[str, Any]] = metadata_column()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class AvailabilityException(Base):
    """A date that differs from the weekly hours: closed (holiday) or open with its own hours."""

    __tablename__ = "availability_exceptions"
    __table_args__ = (UniqueConstraint("date", name="availability_exceptions_date_key"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    is_closed: Mapped[bool] = mapped_column(nullable=False, server_default=text("true"))
    hours: Mapped[list[Any]] = jsonb_array()
    reason: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = metadata_column()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class ServiceBooking(Base):
    """A consultation. The exclusion constraint ``service_bookings_no_overlap`` (migration 0001)
    makes two overlapping pending/confirmed bookings impossible."""

    __tablename__ = "service_bookings"
    __table_args__ = (
        Index("idx_service_bookings_user_id", "user_id"),
        Index("idx_service_bookings_service_id", "service_id"),
        Index("idx_service_bookings_scheduled_at", "scheduled_at"),
        Index("idx_service_bookings_status", "status"),
        Index("idx_service_bookings_created_at", text("created_at DESC")),
        Index(
            "service_bookings_idempotency_key",
            "user_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("services.id", ondelete="RESTRICT"), nullable=False
    )
    consultation_type: Mapped[ConsultationType] = mapped_column(
        pg_enum(ConsultationType, "consultation_type"), nullable=False, server_default="discovery"
    )
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    buffer_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    time_zone: Mapped[str] = mapped_column(Text, nullable=False, server_default="UTC")
    status: Mapped[BookingStatus] = mapped_column(
        pg_enum(BookingStatus, "booking_status"), nullable=False, server_default="pending"
    )
    meeting_link: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    internal_notes: Mapped[str | None] = mapped_column(Text)
    reminder_sent: Mapped[bool] = mapped_column(nullable=False, server_default=text("false"))
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    metadata_: Mapped[dict[str, Any]] = metadata_column()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
