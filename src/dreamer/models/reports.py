"""The business figures of the staff reports, one row per UTC day (migration 0023).

Written only by ``report_refresh()`` (``db/sql/analytics.sql``), from the days the statement
triggers of users, leads, lead_activities and service_bookings mark in ``report_stale``."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, Date, Identity, Integer
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from dreamer.models.base import Base, LeadSource, pg_enum


class ReportDaily(Base):
    """Accounts made, bookings made and contact forms sent, per day."""

    __tablename__ = "report_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    new_users: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    bookings: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    forms: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class ReportDailyLeads(Base):
    """Leads made per day and source; those whose person booked; those converted."""

    __tablename__ = "report_daily_leads"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[LeadSource] = mapped_column(pg_enum(LeadSource, "lead_source"), primary_key=True)
    leads: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    booked: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    converted: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class ReportDailyRevenue(Base):
    """Completed bookings and their minutes per day of the meeting and service."""

    __tablename__ = "report_daily_revenue"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    service_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    completed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    minutes: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")


class ReportStale(Base):
    """A day whose figures changed since ``report_refresh()`` last computed it."""

    __tablename__ = "report_stale"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
