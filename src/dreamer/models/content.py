"""case_studies, testimonials and content_pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dreamer.models.base import (
    Base,
    ContentStatus,
    PageType,
    created_at,
    jsonb_array,
    jsonb_object,
    metadata_column,
    pg_enum,
    updated_at,
    uuid_pk,
)


class CaseStudy(Base):
    __tablename__ = "case_studies"
    __table_args__ = (
        UniqueConstraint("slug", name="case_studies_slug_key"),
        Index("idx_case_studies_status", "status", text("published_at DESC")),
        Index("idx_case_studies_author_id", "author_id"),
        Index("idx_case_studies_created_at", text("created_at DESC")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    title: Mapped[str] = mapped_column(Text, nullable=False)
    slug: Mapped[str] = mapped_column(Text, nullable=False)
    client_name: Mapped[str | None] = mapped_column(Text)
    industry: Mapped[str | None] = mapped_column(Text)
    challenge: Mapped[str | None] = mapped_column(Text)
    solution: Mapped[str | None] = mapped_column(Text)
    results: Mapped[str | None] = mapped_column(Text)
    technologies: Mapped[list[Any]] = jsonb_array()
    metrics: Mapped[dict[str, Any]] = jsonb_object()
    featured_image: Mapped[str | None] = mapped_column(Text)
    images: Mapped[list[Any]] = jsonb_array()
    status: Mapped[ContentStatus] = mapped_column(
        pg_enum(ContentStatus, "content_status"), nullable=False, server_default="draft"
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    view_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    metadata_: Mapped[dict[str, Any]] = metadata_column()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class Testimonial(Base):
    __tablename__ = "testimonials"
    __table_args__ = (
        Index("idx_testimonials_case_study_id", "case_study_id"),
        Index("idx_testimonials_active_sort", "sort_order", postgresql_where=text("is_active")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    client_name: Mapped[str] = mapped_column(Text, nullable=False)
    client_title: Mapped[str | None] = mapped_column(Text)
    client_company: Mapped[str | None] = mapped_column(Text)
    client_image: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    rating: Mapped[int | None] = mapped_column(Integer)
    case_study_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("case_studies.id", ondelete="SET NULL")
    )
    is_featured: Mapped[bool] = mapped_column(nullable=False, server_default=text("false"))
    is_active: Mapped[bool] = mapped_column(nullable=False, server_default=text("true"))
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    metadata_: Mapped[dict[str, Any]] = metadata_column()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class ContentPage(Base):
    __tablename__ = "content_pages"
    __table_args__ = (
        UniqueConstraint("slug", name="content_pages_slug_key"),
        Index("idx_content_pages_status", "status", text("published_at DESC")),
        Index("idx_content_pages_author_id", "author_id"),
        Index("idx_content_pages_created_at", text("created_at DESC")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    title: Mapped[str] = mapped_column(Text, nullable=False)
    slug: Mapped[str] = mapped_column(Text, nullable=False)
    page_type: Mapped[PageType] = mapped_column(
        pg_enum(PageType, "page_type"), nullable=False, server_default="custom"
    )
    content: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    meta_title: Mapped[str | None] = mapped_column(Text)
    meta_description: Mapped[str | None] = mapped_column(Text)
    meta_keywords: Mapped[str | None] = mapped_column(Text)
    og_image: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ContentStatus] = mapped_column(
        pg_enum(ContentStatus, "content_status"), nullable=False, server_default="draft"
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    view_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    metadata_: Mapped[dict[str, Any]] = metadata_column()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
