"""users and user_sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from dreamer.models.base import (
    Base,
    UserRole,
    UserStatus,
    created_at,
    jsonb_object,
    metadata_column,
    pg_enum,
    updated_at,
    uuid_pk,
)


class User(Base):
    """An account. Secret columns are written but never read by the app role."""

    __tablename__ = "users"
    __table_args__ = (
        Index("users_email_lower_key", func.lower(text("email")), unique=True),
        Index("idx_users_status", "status"),
        Index("idx_users_role", "role"),
        Index("idx_users_created_at", text("created_at DESC")),
        Index(
            "users_email_verification_token_key",
            "email_verification_token",
            unique=True,
            postgresql_where=text("email_verification_token IS NOT NULL"),
        ),
        Index(
            "users_password_reset_token_key",
            "password_reset_token",
            unique=True,
            postgresql_where=text("password_reset_token IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(Text, nullable=False)
    password_hash: Mapped[str | None] = mapped_column(Text, deferred=True, deferred_raiseload=True)
    first_name: Mapped[str] = mapped_column(Text, nullable=False)
    last_name: Mapped[str] = mapped_column(Text, nullable=False)
    phone: Mapped[str | None] = mapped_column(Text)
    company: Mapped[str | None] = mapped_column(Text)
    job_title: Mapped[str | None] = mapped_column(Text)
    role: Mapped[UserRole] = mapped_column(
        pg_enum(UserRole, "user_role"), nullable=False, server_default="visitor"
    )
    status: Mapped[UserStatus] = mapped_column(
        pg_enum(UserStatus, "user_status"), nullable=False, server_default="pending_verification"
    )
    email_verified: Mapped[bool] = mapped_column(nullable=False, server_default=text("false"))
    email_verification_token: Mapped[str | None] = mapped_column(
        Text, deferred=True, deferred_raiseload=True
    )
    email_verification_expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_reset_token: Mapped[str | None] = mapped_column(
        Text, deferred=True, deferred_raiseload=True
    )
    password_reset_expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    login_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    accepts_leads: Mapped[bool] = mapped_column(nullable=False, server_default=text("false"))
    preferences: Mapped[dict[str, Any]] = jsonb_object()
    metadata_: Mapped[dict[str, Any]] = metadata_column()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class UserSession(Base):
    """One signed-in device; ``session_token`` holds the SHA-256 of the refresh token."""

    __tablename__ = "user_sessions"
    __table_args__ = (
        UniqueConstraint("session_token", name="user_sessions_session_token_key"),
        Index("idx_user_sessions_user_id", "user_id"),
        Index("idx_user_sessions_expires_at", "expires_at"),
        Index("idx_user_sessions_family_id", "family_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    session_token: Mapped[str] = mapped_column(
        Text, nullable=False, deferred=True, deferred_raiseload=True
    )
    family_id: Mapped[uuid.UUID] = mapped_column(
        nullable=False, server_default=func.gen_random_uuid()
    )
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_used_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
