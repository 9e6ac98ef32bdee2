"""newsletter_subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from dreamer.models.base import (
    Base,
    created_at,
    jsonb_array,
    jsonb_object,
    metadata_column,
    updated_at,
    uuid_pk,
)


class NewsletterSubscription(Base):
    """Double opt-in: pending until ``confirmed_at``; token columns hold SHA-256 digests."""

    __tablename__ = "newsletter_subscriptions"
    __table_args__ = (
        UniqueConstraint(
            "unsubscribe_token", name="newsletter_subscriptions_unsubscribe_token_key"
        ),
        Index("newsletter_subscriptions_email_lower_key", func.lower(text("email")), unique=True),
        Index(
            "newsletter_subscriptions_confirmation_token_key",
            "confirmation_token",
            unique=True,
            postgresql_where=text("confirmation_token IS NOT NULL"),
        ),
        Index("idx_newsletter_subscriptions_user_id", "user_id"),
        Index("idx_newsletter_subscriptions_created_at", text("created_at DESC")),
        Index(
            "idx_newsletter_subscriptions_tags",
            "tags",
            postgresql_using="gin",
            postgresql_ops={"tags": "jsonb_path_ops"},
        ),
        Index("idx_newsletter_subscriptions_active", "is_active"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(Text, nullable=False)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(nullable=False, server_default=text("false"))
    tags: Mapped[list[Any]] = jsonb_array()
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmation_token: Mapped[str | None] = mapped_column(
        Text, deferred=True, deferred_raiseload=True
    )
    confirmation_expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribe_token: Mapped[str | None] = mapped_column(
        Text, deferred=True, deferred_raiseload=True
    )
    consent: Mapped[dict[str, Any]] = jsonb_object()
    metadata_: Mapped[dict[str, Any]] = metadata_column()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class NewsletterSuppression(Base):
    """Addresses (as SHA-256 of the normalised address) that must not be re-added."""

    __tablename__ = "newsletter_suppressions"

    email_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at()
