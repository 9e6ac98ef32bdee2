"""leads and lead_activities."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Computed,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from dreamer.models.base import (
    Base,
    LeadSource,
    LeadStatus,
    created_at,
    jsonb_array,
    jsonb_object,
    metadata_column,
    pg_enum,
    updated_at,
    uuid_pk,
)


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (
        Index("idx_leads_email", "email_normalized"),
        Index("idx_leads_status", "status", text("created_at DESC"), text("id DESC")),
        Index("idx_leads_created_at", text("created_at DESC"), text("id DESC")),
        Index("idx_leads_user_id", "user_id"),
        Index("idx_leads_assigned_to", "assigned_to"),
        Index("idx_leads_search", "search", postgresql_using="gin"),
        Index(
            "idx_leads_tags",
            "tags",
            postgresql_using="gin",
            postgresql_ops={"tags": "jsonb_path_ops"},
        ),
        Index("idx_leads_source", "source", "status", text("created_at DESC"), text("id DESC")),
        Index("idx_leads_score", "score", "id"),
        Index("idx_leads_last_activity", text("last_activity_at DESC"), text("id DESC")),
        Index(
            "idx_leads_first_contact_seconds",
            "first_contact_seconds",
            postgresql_where=text("first_contact_seconds IS NOT NULL"),
        ),
        Index(
            "idx_leads_open_email",
            "email_normalized",
            text("created_at DESC"),
            postgresql_where=text("status NOT IN ('converted', 'lost')"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(Text, nullable=False)
    email_normalized: Mapped[str | None] = mapped_column(
        Text, Computed("lower(btrim(email))", persisted=True)
    )
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    company: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    inquiry_type: Mapped[str | None] = mapped_column(Text)
    status: Mapped[LeadStatus] = mapped_column(
        pg_enum(LeadStatus, "lead_status"), nullable=False, server_default="new"
    )
    source: Mapped[LeadSource] = mapped_column(
        pg_enum(LeadSource, "lead_source"), nullable=False, server_default="website"
    )
    source_details: Mapped[dict[str, Any]] = jsonb_object()
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    score: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    tags: Mapped[list[Any]] = jsonb_array()
    conversion_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lost_reason: Mapped[str | None] = mapped_column(Text)
    search: Mapped[str | None] = mapped_column(
        TSVECTOR,
        Computed(
            "to_tsvector('simple'::regconfig, COALESCE(first_name, '') || ' ' || "
            "COALESCE(last_name, '') || ' ' || email || ' ' || COALESCE(company, '') || ' ' || "
            "COALESCE(message, ''))",
            persisted=True,
        ),
        deferred=True,
    )
    score_details: Mapped[list[Any]] = jsonb_array()
    last_activity_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    first_contacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_contact_seconds: Mapped[float | None] = mapped_column(
        Double,
        Computed("EXTRACT(epoch FROM first_contacted_at - created_at)", persisted=True),
    )
    notes: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = metadata_column()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class LeadScoringRule(Base):
    """Points for a lead: a field present or equal to a value, an event, or inactivity."""

    __tablename__ = "lead_scoring_rules"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    field: Mapped[str | None] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)
    event: Mapped[str | None] = mapped_column(Text)
    days: Mapped[int | None] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    is_active: Mapped[bool] = mapped_column(nullable=False, server_default=text("true"))
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    metadata_: Mapped[dict[str, Any]] = metadata_column()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class LeadActivity(Base):
    __tablename__ = "lead_activities"
    __table_args__ = (
        Index("idx_lead_activities_lead_id", "lead_id", text("created_at DESC")),
        Index("idx_lead_activities_user_id", "user_id"),
        Index("idx_lead_activities_type_time", "activity_type", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    activity_type: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = metadata_column()
    created_at: Mapped[datetime] = created_at()


class LeadRollup(Base):
    """Leads per status and source, kept by the leads' statement triggers (16 shards: a
    transaction adds to the row of its backend's shard, so concurrent writers rarely meet)."""

    __tablename__ = "lead_rollup"

    status: Mapped[LeadStatus] = mapped_column(pg_enum(LeadStatus, "lead_status"), primary_key=True)
    source: Mapped[LeadSource] = mapped_column(pg_enum(LeadSource, "lead_source"), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, nullable=False)


class LeadContactRollup(Base):
    """A histogram of the time to first contact: bucket b holds times from
    60 * (1.01**b - 1) seconds to the start of the next bucket."""

    __tablename__ = "lead_contact_rollup"

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger, nullable=False)
