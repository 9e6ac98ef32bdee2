"""SQL of the audit trail (written only by the database: its triggers and
``record_audit_event``; read here, under the ``app_select`` policy: staff see every entry)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.models import AuditLog


async def page(
    session: AsyncSession,
    *,
    entity_type: str | None,
    entity_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
    action: str | None,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[AuditLog]:
    """Newest first, keyset on (created_at, id). The filters match the indexes: an entity
    (entity_type, entity_id, created_at), an actor (user_id, created_at), or the whole trail
    (created_at); each partition is read in index order and the newest ``limit`` merged."""
    query = select(AuditLog).order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(limit)
    if entity_type is not None:
        query = query.where(AuditLog.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditLog.entity_id == entity_id)
    if user_id is not None:
        query = query.where(AuditLog.user_id == user_id)
    if action is not None:
        query = query.where(AuditLog.action == action)
    if after is not None:
        query = query.where(tuple_(AuditLog.created_at, AuditLog.id) < tuple_(*after))
    return (await session.scalars(query)).all()
