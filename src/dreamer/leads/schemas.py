"""Wire format of the contact form and the pipeline."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from dreamer.core.emails import EmailAddress
from dreamer.core.responses import ApiModel, InputModel
from dreamer.models import LeadSource, LeadStatus

Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Message = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class ContactIn(InputModel):
    """The website's form posts {name, email, company, message, type}; the rest is optional.

    Unknown fields are ignored here (a public form evolves), never stored."""

    model_config = ConfigDict(extra="ignore")

    email: EmailAddress
    # present but blank (the website's empty fields) is refused, not stored as an empty lead
    name: Annotated[Short, StringConstraints(min_length=1)] | None = None
    first_name: Short | None = None
    last_name: Short | None = None
    company: Short | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    message: Annotated[Message, StringConstraints(min_length=1)] | None = None
    type: Short | None = Field(default=None, description="inquiry type, e.g. general")
    inquiry_type: Short | None = None
    newsletter: bool = False
    source: LeadSource | None = None
    utm_source: Short | None = None
    utm_medium: Short | None = None
    utm_campaign: Short | None = None
    utm_term: Short | None = None
    utm_content: Short | None = None
    referrer: Annotated[str, StringConstraints(max_length=2000)] | None = None
    # spam defences: a field people never see, and the token of GET /contact/token
    website: Annotated[str, StringConstraints(max_length=500)] | None = None
    form_token: Annotated[str, StringConstraints(max_length=200)] | None = None


@dataclass(frozen=True)
class LeadFilter:
    """The pipeline's filters (the list and the CSV export share them)."""

    status: LeadStatus | None = None
    source: str | None = None
    assigned_to: uuid.UUID | None = None
    tag: str | None = None
    min_score: int | None = None
    max_score: int | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    search: str | None = None


class LeadOut(ApiModel):
    id: uuid.UUID
    user_id: uuid.UUID | None
    email: str
    first_name: str | None
    last_name: str | None
    company: str | None
    phone: str | None
    message: str | None
    inquiry_type: str | None
    status: LeadStatus
    source: LeadSource
    source_details: dict[str, Any]
    assigned_to: uuid.UUID | None
    score: int
    score_details: list[Any]
    tags: list[Any]
    notes: str | None
    conversion_date: dt.datetime | None
    lost_reason: str | None
    last_activity_at: dt.datetime
    first_contacted_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadPatch(InputModel):
    status: LeadStatus | None = None
    assigned_to: uuid.UUID | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    notes: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    lost_reason: Reason | None = None


class ActivityIn(InputModel):
    activity_type: Literal["call", "email", "meeting", "note"]
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)
    ]
    metadata: dict[str, Any] = Field(default_factory=dict, max_length=20)


class ActivityOut(ApiModel):
    id: uuid.UUID
    lead_id: uuid.UUID
    user_id: uuid.UUID | None
    activity_type: str
    description: str | None
    metadata: dict[str, Any] = Field(validation_alias="metadata_")
    created_at: dt.datetime


class RuleIn(InputModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: Literal["field_present", "field_equals", "event", "inactivity"]
    field: (
        Literal["company", "phone", "message", "inquiry_type", "source", "first_name", "last_name"]
        | None
    ) = None
    value: Short | None = None
    event: Literal["booked_consultation", "newsletter_subscribed", "registered"] | None = None
    days: int | None = Field(default=None, ge=1, le=3650)
    points: int = Field(ge=-1000, le=1000)
    is_active: bool = True
    sort_order: int = Field(default=0, ge=-10_000, le=10_000)


class RuleOut(ApiModel):
    id: uuid.UUID
    name: str
    kind: str
    field: str | None
    value: str | None
    event: str | None
    days: int | None
    points: int
    is_active: bool
    sort_order: int
