"""audit_logs and analytics_events: append-only, range-partitioned by month (migration 0002)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Index, LargeBinary, Text, func, text
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from dreamer.models.base import Base, jsonb_object, metadata_column


class AuditLog(Base):
    """Written only by the ``audit_row_change`` trigger and ``record_audit_event``."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("idx_audit_logs_entity", "entity_type", "entity_id", text("created_at DESC")),
        Index("idx_audit_logs_user_id", "user_id", text("created_at DESC")),
        Index("idx_audit_logs_created_at", text("created_at DESC")),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), primary_key=True, server_default=func.clock_timestamp()
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str] = mapped_column(Text, nullable=False)
    entity_type: Mapped[str] = mapped_column(Text, nullable=False)
    entity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    old_values: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    new_values: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = metadata_column()


class AnalyticsEvent(Base):
    """A privacy-friendly event (``analytics_ingest``): a daily visitor hash, a hashed session,
    a truncated network (the table refuses a full address), a browser/OS/device class."""

    __tablename__ = "analytics_events"
    __table_args__ = (
        Index("idx_analytics_events_type_time", "event_type", text("created_at DESC")),
        Index("idx_analytics_events_created_at", text("created_at DESC")),
        Index("idx_analytics_events_user_id", "user_id"),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), primary_key=True, server_default=func.now()
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    session_id: Mapped[str | None] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(Text, nullable=False)
    page_url: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = jsonb_object()
    ip_address: Mapped[str | None] = mapped_column(INET)
    visitor_hash: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(Text)
    referrer: Mapped[str | None] = mapped_column(Text)
    utm_source: Mapped[str | None] = mapped_column(Text)
    utm_medium: Mapped[str | None] = mapped_column(Text)
    utm_campaign: Mapped[str | None] = mapped_column(Text)
    browser: Mapped[str | None] = mapped_column(Text)
    os: Mapped[str | None] = mapped_column(Text)
    device: Mapped[str | None] = mapped_column(Text)


class AnalyticsSalt(Base):
    """One random salt per UTC day for the visitor hashes (owner only; gone after the day)."""

    __tablename__ = "analytics_salts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class AnalyticsDaily(Base):
    """Events per UTC day, type and path ('' for none): the reports' roll-up."""

    __tablename__ = "analytics_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    event_type: Mapped[str] = mapped_column(Text, primary_key=True)
    path: Mapped[str] = mapped_column(Text, primary_key=True, server_default="")
    events: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")


class AnalyticsDailySource(Base):
    """Visits (a visitor's first page view of the day) per UTC day and source."""

    __tablename__ = "analytics_daily_sources"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    referrer: Mapped[str] = mapped_column(Text, primary_key=True, server_default="")
    utm_source: Mapped[str] = mapped_column(Text, primary_key=True, server_default="")
    utm_medium: Mapped[str] = mapped_column(Text, primary_key=True, server_default="")
    utm_campaign: Mapped[str] = mapped_column(Text, primary_key=True, server_default="")
    visits: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")


class AnalyticsVisit(Base):
    """The visitor hashes of the last two days, so each visitor counts once a day."""

    __tablename__ = "analytics_visits"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    visitor_hash: Mapped[str] = mapped_column(Text, primary_key=True)
