"""Audit events that are not row changes (a failed login, a logout, a staff action).

Row changes are recorded by the ``audit_row_change`` trigger by themselves; this adds the rest
to the same trail, in the caller's transaction, with the request context the trigger uses.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_RECORD = text("select record_audit_event(:a, :t, :id, cast(:m as jsonb))")


async def record_event(
    session: AsyncSession,
    action: str,
    entity_id: uuid.UUID | None,
    metadata: dict[str, object] | None = None,
    entity_type: str = "users",
) -> None:
    """Append ``action`` (``domain.event``) about ``entity_type``/``entity_id`` to the trail."""
    await session.execute(
        _RECORD, {"a": action, "t": entity_type, "id": entity_id, "m": json.dumps(metadata or {})}
    )
