"""Wire format of the catalogue (the original contract's camelCase field names)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from dreamer.catalog.pricing import Pricing
from dreamer.core.responses import ApiModel, InputModel

SlugText = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
]
Feature = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class ServiceOut(ApiModel):
    id: uuid.UUID
    name: str
    slug: str
    description: str | None
    features: list[Any]
    pricing: dict[str, Any]
    duration_minutes: int
    is_active: bool
    sort_order: int
    created_at: datetime
    updated_at: datetime


class ServiceIn(InputModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    slug: SlugText
    description: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    features: list[Feature] = Field(default_factory=list, max_length=50)
    pricing: Pricing
    duration_minutes: int = Field(default=60, ge=5, le=1440)
    is_active: bool = True
    sort_order: int = Field(default=0, ge=-10_000, le=10_000)


class ServicePatch(InputModel):
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    slug: SlugText | None = None
    description: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    features: list[Feature] | None = Field(default=None, max_length=50)
    pricing: Pricing | None = None
    duration_minutes: int | None = Field(default=None, ge=5, le=1440)
    is_active: bool | None = None
    sort_order: int | None = Field(default=None, ge=-10_000, le=10_000)


class ReorderIn(InputModel):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
