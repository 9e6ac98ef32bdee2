"""Wire format of pages, case studies and testimonials (camelCase, as everywhere)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from dreamer.content.blocks import PageContent, Url, sanitise
from dreamer.core.responses import ApiModel, InputModel
from dreamer.models import ContentStatus, PageType

Slug = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
]
# Page slugs may have sections: "blog/launching-our-assistant".
PageSlug = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=300, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)*$"
    ),
]


def _text(limit: int, minimum: int = 1) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=minimum, max_length=limit)


Title = Annotated[str, _text(300)]
Short = Annotated[str, _text(200)]
Quote = Annotated[str, _text(5000)]
MetaTitle = Annotated[str, _text(300, 0)]
MetaDescription = Annotated[str, _text(1000, 0)]
MetaKeywords = Annotated[str, _text(1000, 0)]
Rich = Annotated[str, StringConstraints(max_length=20_000)]
Technology = Annotated[str, _text(100)]
MetricValue = Annotated[str, StringConstraints(max_length=200)] | int | float


class SeoOut(ApiModel):
    """What the website puts in <head>: resolved (fallbacks filled in), with JSON-LD."""

    title: str
    description: str | None
    keywords: str | None
    og_image: str | None
    canonical_url: str
    json_ld: list[dict[str, Any]]


class _Published(ApiModel):
    status: ContentStatus
    published_at: datetime | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    # staff only
    author_id: uuid.UUID | None = None
    view_count: int | None = None


class PageOut(_Published):
    id: uuid.UUID
    title: str
    slug: str
    page_type: PageType
    path: str
    content: dict[str, Any]
    meta_title: str | None
    meta_description: str | None
    meta_keywords: str | None
    og_image: str | None
    canonical_url: str | None
    seo: SeoOut


class TestimonialOut(_Published):
    id: uuid.UUID
    client_name: str
    client_title: str | None
    client_company: str | None
    client_image: str | None
    content: str
    rating: int | None
    case_study_id: uuid.UUID | None
    is_featured: bool
    sort_order: int


class CaseStudyOut(_Published):
    id: uuid.UUID
    title: str
    slug: str
    path: str
    client_name: str | None
    industry: str | None
    challenge: str | None
    solution: str | None
    results: str | None
    technologies: list[Any]
    metrics: dict[str, Any] | list[Any]
    featured_image: str | None
    images: list[Any]
    sort_order: int
    meta_title: str | None
    meta_description: str | None
    meta_keywords: str | None
    seo: SeoOut
    testimonials: list[TestimonialOut] | None = None  # by slug: its public testimonials


def _rich(value: str | None) -> str | None:
    return None if value is None else (sanitise(value) or None)


class PageIn(InputModel):
    title: Title
    slug: PageSlug
    page_type: PageType = PageType.CUSTOM
    content: PageContent = Field(default_factory=PageContent)
    meta_title: MetaTitle | None = None
    meta_description: MetaDescription | None = None
    meta_keywords: MetaKeywords | None = None
    og_image: Url | None = None
    canonical_url: Url | None = None
    expires_at: AwareDatetime | None = None


class PagePatch(InputModel):
    title: Title | None = None
    slug: PageSlug | None = None
    page_type: PageType | None = None
    content: PageContent | None = None
    meta_title: MetaTitle | None = None
    meta_description: MetaDescription | None = None
    meta_keywords: MetaKeywords | None = None
    og_image: Url | None = None
    canonical_url: Url | None = None
    expires_at: AwareDatetime | None = None


class _CaseStudyFields(InputModel):
    client_name: Short | None = None
    industry: Short | None = None
    # rich text (see dreamer.content.blocks), stored sanitised
    challenge: Rich | None = None
    solution: Rich | None = None
    results: Rich | None = None
    featured_image: Url | None = None
    meta_title: MetaTitle | None = None
    meta_description: MetaDescription | None = None
    meta_keywords: MetaKeywords | None = None
    expires_at: AwareDatetime | None = None

    @field_validator("challenge", "solution", "results")
    @classmethod
    def _sanitised(cls, value: str | None) -> str | None:
        return _rich(value)


class CaseStudyIn(_CaseStudyFields):
    title: Title
    slug: Slug
    technologies: list[Technology] = Field(default_factory=list, max_length=50)
    metrics: dict[Annotated[str, StringConstraints(min_length=1, max_length=100)], MetricValue] = (
        Field(default_factory=dict, max_length=50)
    )
    images: list[Url] = Field(default_factory=list, max_length=50)
    sort_order: int = Field(default=0, ge=-10_000, le=10_000)


class CaseStudyPatch(_CaseStudyFields):
    title: Title | None = None
    slug: Slug | None = None
    technologies: list[Technology] | None = Field(default=None, max_length=50)
    metrics: (
        dict[Annotated[str, StringConstraints(min_length=1, max_length=100)], MetricValue] | None
    ) = Field(default=None, max_length=50)
    images: list[Url] | None = Field(default=None, max_length=50)
    sort_order: int | None = Field(default=None, ge=-10_000, le=10_000)


class TestimonialIn(InputModel):
    client_name: Short
    client_title: Short | None = None
    client_company: Short | None = None
    client_image: Url | None = None
    content: Quote
    rating: int | None = Field(default=None, ge=1, le=5)
    case_study_id: uuid.UUID | None = None
    is_featured: bool = False
    sort_order: int = Field(default=0, ge=-10_000, le=10_000)
    expires_at: AwareDatetime | None = None


class TestimonialPatch(InputModel):
    client_name: Short | None = None
    client_title: Short | None = None
    client_company: Short | None = None
    client_image: Url | None = None
    content: Quote | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    case_study_id: uuid.UUID | None = None
    is_featured: bool | None = None
    sort_order: int | None = Field(default=None, ge=-10_000, le=10_000)
    expires_at: AwareDatetime | None = None


class PublishIn(InputModel):
    """``publishAt`` in the future schedules (public from then on, no job involved); absent,
    the item is public at once. ``expiresAt`` hides it again at that moment."""

    publish_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None


class RevisionOut(ApiModel):
    revision: int
    author_id: uuid.UUID | None
    created_at: datetime


class RevisionDetail(RevisionOut):
    snapshot: dict[str, Any]


class FieldChange(ApiModel):
    field: str
    before: Any
    after: Any


class RevisionDiff(ApiModel):
    from_revision: int
    to_revision: int
    changes: list[FieldChange]
    content_diff: list[str] = Field(description="a unified diff of the content, line by line")


class SearchHit(ApiModel):
    kind: Literal["page", "case_study", "service", "testimonial"]
    title: str
    path: str
    slug: str | None
    rank: float
    title_highlight: str = Field(description="HTML: the title escaped, matches in <mark>")
    highlight: str = Field(description="HTML: fragments escaped, matches in <mark>")


class SeoMetaOut(SeoOut):
    path: str
