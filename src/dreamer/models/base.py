"""Declarative base, shared column types and the enums of the design."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, func, text
from sqlalchemy.dialects.postgresql import ENUM, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "%(table_name)s_%(column_0_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSONB, list[Any]: JSONB, uuid.UUID: UUID(as_uuid=True)}


class UserRole(enum.StrEnum):
    VISITOR = "visitor"
    CLIENT = "client"
    ADMIN = "admin"
    SUPER_ADMIN = "super_admin"

    @property
    def is_staff(self) -> bool:
        return self in STAFF_ROLES


# The one definition of who is staff (the RLS helper app_is_staff() says the same in SQL).
STAFF_ROLES = frozenset({UserRole.ADMIN, UserRole.SUPER_ADMIN})


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"
    PENDING_VERIFICATION = "pending_verification"


class BookingStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class ConsultationType(enum.StrEnum):
    DISCOVERY = "discovery"
    TECHNICAL = "technical"
    STRATEGY = "strategy"
    IMPLEMENTATION = "implementation"
    SUPPORT = "support"


class LeadStatus(enum.StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    NEGOTIATING = "negotiating"
    CONVERTED = "converted"
    LOST = "lost"


class LeadSource(enum.StrEnum):
    WEBSITE = "website"
    REFERRAL = "referral"
    SOCIAL_MEDIA = "social_media"
    EVENT = "event"
    DIRECT = "direct"
    OTHER = "other"


class ContentStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class ContentKind(enum.StrEnum):
    PAGE = "page"
    CASE_STUDY = "case_study"
    TESTIMONIAL = "testimonial"


class PageType(enum.StrEnum):
    LANDING = "landing"
    SERVICE = "service"
    BLOG = "blog"
    CASE_STUDY = "case_study"
    CUSTOM = "custom"


def pg_enum(cls: type[enum.StrEnum], name: str) -> ENUM:
    """A PostgreSQL enum created by the migrations (never by SQLAlchemy)."""
    return ENUM(cls, name=name, create_type=False, values_callable=lambda e: [m.value for m in e])


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )


def created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def updated_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def jsonb_object() -> Mapped[dict[str, Any]]:
    return mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))


def metadata_column() -> Mapped[dict[str, Any]]:
    """The ``metadata`` column (``metadata`` is reserved on declarative classes)."""
    return mapped_column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb"))


def jsonb_array() -> Mapped[list[Any]]:
    return mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
