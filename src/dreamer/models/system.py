"""Bookkeeping tables of the auth and mail machinery (migration 0004)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from dreamer.models.base import Base, created_at, jsonb_object, pg_enum, updated_at, uuid_pk


class RefreshTokenHistory(Base):
    """Digests of refresh tokens already rotated away; presenting one again is theft."""

    __tablename__ = "refresh_token_history"
    __table_args__ = (Index("idx_refresh_token_history_session_id", "session_id"),)

    token_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_sessions.id", ondelete="CASCADE"), nullable=False
    )
    retired_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class RateLimit(Base):
    """Token buckets shared by every worker process (keys stored hashed), kept as the generic
    cell rate algorithm's one timestamp: the moment the bucket has drained completely."""

    __tablename__ = "rate_limits"
    __table_args__ = (Index("idx_rate_limits_drained_at", "drained_at"),)

    key_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    drained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CacheTopic(Base):
    """Versions of what the public-read cache holds (``dreamer.db.cache``), bumped and announced
    by ``cache_touch()`` whenever a table behind a topic changes."""

    __tablename__ = "cache_topics"

    topic: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")


class MailStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class MailOutbox(Base):
    """A mail to send, written in the transaction of the change that caused it."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("idx_mail_outbox_user_id", "user_id"),
        Index("idx_mail_outbox_status", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    to_address: Mapped[str] = mapped_column(Text, nullable=False)
    template: Mapped[str] = mapped_column(Text, nullable=False)
    context: Mapped[dict[str, Any]] = jsonb_object()
    status: Mapped[MailStatus] = mapped_column(
        pg_enum(MailStatus, "mail_status"), nullable=False, server_default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class GdprErasure(Base):
    """That an erasure happened (who asked, when, rows per table), with no personal data."""

    __tablename__ = "gdpr_erasures"
    __table_args__ = (
        Index("idx_gdpr_erasures_staff_id", "staff_id"),
        Index("idx_gdpr_erasures_erased_at", text("erased_at DESC")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    pseudonym: Mapped[uuid.UUID] = mapped_column(unique=True, nullable=False)
    requested_by: Mapped[str] = mapped_column(Text, nullable=False)
    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    counts: Mapped[dict[str, Any]] = jsonb_object()
    erased_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
