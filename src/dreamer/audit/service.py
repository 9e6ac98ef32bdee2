"""Reading the audit trail (staff)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.audit import repository
from dreamer.core.pagination import decode_cursor, split_page
from dreamer.models import AuditLog


async def trail(
    session: AsyncSession,
    *,
    entity_type: str | None,
    entity_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
    action: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[AuditLog], str | None]:
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.page(
        session,
        entity_type=entity_type,
        entity_id=entity_id,
        user_id=user_id,
        action=action,
        after=after,
        limit=limit + 1,
    )
    return split_page(rows, limit, lambda e: (e.created_at, e.id))
