"""Wire format of analytics: the events a site sends, the reports staff read (camelCase)."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AliasChoices,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from dreamer.core.responses import ApiModel, InputModel

MAX_BATCH = 500
MAX_PROPERTIES = 20
MAX_PROPERTY_KEY = 50
MAX_PROPERTY_TEXT = 500
MAX_PROPERTIES_BYTES = 4096

# The documented vocabulary; anything else must be "custom:<name>".
EVENT_TYPES = (
    "page_view",
    "click",
    "cta_click",
    "outbound_click",
    "file_download",
    "scroll_depth",
    "search",
    "video_play",
    "form_start",
    "form_submit",
    "contact_submit",
    "newsletter_signup",
    "booking_start",
    "booking_complete",
    "chat_open",
    "chat_message",
    "sign_up",
    "login",
    "web_vital",
    "error",
)
CUSTOM = re.compile(r"custom:[a-z0-9][a-z0-9_.:-]{0,59}")
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,49}")

Scalar = str | int | float | bool | None
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


def _moment(value: Any) -> Any:
    """A client time as ISO 8601, or milliseconds since the epoch (as JavaScript's Date.now())."""
    if isinstance(value, bool):
        raise ValueError("a time is ISO 8601 or milliseconds since the epoch")
    if isinstance(value, int | float):
        if not math.isfinite(value) or not 0 <= value < 32_503_680_000_000:  # year 3000
            raise ValueError("milliseconds since the epoch, up to the year 3000")
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    return value


class EventIn(InputModel):
    event_type: str = Field(
        max_length=100,
        description=f"One of {', '.join(EVENT_TYPES)}, or `custom:<name>` "
        "(lowercase letters, digits, `_.:-`; at most 60)",
    )
    page_url: Url | None = Field(
        default=None, description="The page's URL (or path); its query keeps only utm_* tags"
    )
    referrer: Url | None = Field(default=None, description="document.referrer: its host is kept")
    properties: dict[str, Scalar] = Field(
        default_factory=dict,
        description=f"At most {MAX_PROPERTIES} flat keys (≤ {MAX_PROPERTY_KEY} chars), values "
        f"text (≤ {MAX_PROPERTY_TEXT} chars), numbers, booleans or null; ≤ "
        f"{MAX_PROPERTIES_BYTES} bytes as JSON",
    )
    session_id: str | None = Field(
        default=None,
        max_length=100,
        description="The client's session id: stored only as a hash salted for the day",
    )
    visitor_id: str | None = Field(
        default=None,
        max_length=100,
        description="The client's visitor id, if it keeps one: counts the visitor instead of "
        "IP and user agent, hashed with the day's salt (never stored as sent)",
    )
    timestamp: dt.datetime | None = Field(
        default=None,
        validation_alias=AliasChoices("timestamp", "clientTimestamp", "client_timestamp"),
        description="When it happened (ISO 8601 or ms since the epoch); clamped to the last "
        "24 hours, never later than its arrival",
    )

    @field_validator("timestamp", mode="before")
    @classmethod
    def _ms(cls, value: Any) -> Any:
        return _moment(value)

    @field_validator("event_type")
    @classmethod
    def _vocabulary(cls, value: str) -> str:
        if value in EVENT_TYPES or CUSTOM.fullmatch(value):
            return value
        raise ValueError("not in the vocabulary: use one of the documented types or custom:<name>")

    @field_validator("properties")
    @classmethod
    def _small(cls, value: dict[str, Scalar]) -> dict[str, Scalar]:
        if len(value) > MAX_PROPERTIES:
            raise ValueError(f"at most {MAX_PROPERTIES} properties")
        for key, item in value.items():
            if not _KEY.fullmatch(key):
                raise ValueError(f"property names are 1-{MAX_PROPERTY_KEY} of A-Za-z0-9_.:-")
            if isinstance(item, str) and len(item) > MAX_PROPERTY_TEXT:
                raise ValueError(f"a property's text is at most {MAX_PROPERTY_TEXT} characters")
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError("numbers must be finite")
        if len(orjson.dumps(value)) > MAX_PROPERTIES_BYTES:
            raise ValueError(f"properties are at most {MAX_PROPERTIES_BYTES} bytes as JSON")
        return value


class EventsIn(InputModel):
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class WebVitalIn(ApiModel):
    """What the website's reportWebVitals posts; other fields (web-vitals' ``id``, ``delta``…)
    are ignored rather than refused, so a library update cannot break the site."""

    model_config = ConfigDict(extra="ignore")

    metric: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)
    ] = Field(validation_alias=AliasChoices("metric", "name"))
    value: float = Field(ge=0, le=1e9)
    score: float | Annotated[str, StringConstraints(max_length=30)] | None = Field(
        default=None, validation_alias=AliasChoices("score", "rating")
    )
    url: Url | None = None
    timestamp: dt.datetime | None = None
    user_agent: Annotated[str, StringConstraints(max_length=1000)] | None = None

    @field_validator("timestamp", mode="before")
    @classmethod
    def _ms(cls, value: Any) -> Any:
        return _moment(value)

    @field_validator("value", "score")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("numbers must be finite")
        return value


class IngestOut(ApiModel):
    accepted: int = Field(description="Events stored")
    dropped: int = Field(description="Events not stored: the browser asked not to be tracked")
    reason: Literal["do-not-track"] | None = None


# -- reports ------------------------------------------------------------------------------


class TrafficPoint(ApiModel):
    period: dt.date = Field(description="The day, or the Monday of the week")
    page_views: int
    visitors: int = Field(description="Daily visitors, summed over a week's days")
    events: int


class TrafficOut(ApiModel):
    interval: Literal["day", "week"]
    points: list[TrafficPoint]
    page_views: int
    visitors: int
    events: int


class PageCount(ApiModel):
    path: str
    page_views: int


class SourceCount(ApiModel):
    source: str
    visits: int


class SourcesOut(ApiModel):
    referrers: list[SourceCount]
    utm_sources: list[SourceCount]
    utm_mediums: list[SourceCount]
    utm_campaigns: list[SourceCount]


class TypeCount(ApiModel):
    event_type: str
    events: int


class FunnelStep(ApiModel):
    step: str
    sessions: int
    conversion: float = Field(description="Of the first step's sessions (0-1)")


class FunnelOut(ApiModel):
    steps: list[FunnelStep]
    window_minutes: int


class LeadStage(ApiModel):
    source: str
    visits: int | None = Field(description="Website visits (only the `website` source has them)")
    contact_forms: int | None
    leads: int
    booked: int = Field(description="Leads whose person booked a consultation")
    converted: int


class LeadFunnelOut(ApiModel):
    total: LeadStage
    by_source: list[LeadStage]


class RevenuePoint(ApiModel):
    month: dt.date
    bookings: int
    revenue: float = Field(description="Completed bookings at their service's price")
    currency: str


class UserCount(ApiModel):
    day: dt.date
    role: str
    users: int


class DashboardOut(ApiModel):
    """The original backend's ``/api/analytics/dashboard``, from the same roll-ups."""

    days: int
    page_views: int
    visitors: int
    events: int
    top_pages: list[PageCount]
    top_referrers: list[SourceCount]
    events_by_type: list[TypeCount]
    new_users: int
    new_leads: int
    bookings: int
    revenue: float


StepName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=510)]
