"""Wire format of the catalogue (the original contract's camelCase field names)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from dreamer.core.responses import ApiModel


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
