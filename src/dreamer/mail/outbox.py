"""Queue a mail in the caller's transaction (the outbox); the worker delivers it."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.mail.registry import template_names


async def queue(
    session: AsyncSession,
    template: str,
    *,
    to: str,
    user_id: uuid.UUID | None,
    context: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Write the mail to ``mail_outbox``; it is sent only if this transaction commits.

    ``context`` must hold no secret: links with tokens are made at send time by the worker.
    """
    if template not in template_names():
        raise ValueError(f"unknown mail template {template!r}")
    value = await session.scalar(
        text("select enqueue_mail(:t, :u, :to, cast(:c as jsonb))"),
        {"t": template, "u": user_id, "to": to, "c": json.dumps(context or {})},
    )
    return uuid.UUID(str(value))
