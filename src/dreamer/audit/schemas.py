"""Wire format of the audit trail."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from dreamer.core.responses import ApiModel


class AuditEntryOut(ApiModel):
    """One change or event. Secrets in ``oldValues``/``newValues`` are stored redacted."""

    id: uuid.UUID
    created_at: dt.datetime
    user_id: uuid.UUID | None = Field(description="who acted (null: the public or the system)")
    action: str = Field(description="insert, update, delete, or an event such as auth.login")
    entity_type: str = Field(description="the table or kind of thing, e.g. leads")
    entity_id: uuid.UUID | None
    old_values: dict[str, Any] | None = Field(description="an update: the changed columns before")
    new_values: dict[str, Any] | None
    ip_address: Annotated[str, BeforeValidator(str)] | None
    user_agent: str | None
    metadata: dict[str, Any] = Field(validation_alias="metadata_")
