"""Wire format of the newsletter."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from dreamer.core.emails import EmailAddress
from dreamer.core.responses import ApiModel, InputModel

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class SubscribeIn(InputModel):
    email: EmailAddress
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class ConfirmIn(InputModel):
    token: Annotated[str, Field(min_length=16, max_length=512)]


class TagsIn(InputModel):
    tags: list[Tag] = Field(max_length=50)


class SubscriberOut(ApiModel):
    id: uuid.UUID
    email: str
    user_id: uuid.UUID | None
    is_active: bool
    tags: list[Any]
    confirmed_at: dt.datetime | None
    unsubscribed_at: dt.datetime | None
    consent: dict[str, Any]
    created_at: dt.datetime
