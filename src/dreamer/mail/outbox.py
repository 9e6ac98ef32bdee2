"""Queue a mail in the caller's transaction (the outbox); the worker delivers it."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.mail.registry import template_names


async def queue(
    session: AsyncSession, template: str, subject: uuid.UUID, *, staff: uuid.UUID | None = None
) -> uuid.UUID | None:
    """Write the mail about ``subject`` (a user, booking, subscription or lead) to
    ``mail_outbox``; it is sent only if this transaction commits.

    The database picks the recipient from ``subject`` (``enqueue_mail`` in ``db/sql/mail.sql``):
    no caller can mail an address of its choosing. Returns None when there is nobody to mail.
    Links with tokens are made at send time by the worker.
    """
    if template not in template_names():
        raise ValueError(f"unknown mail template {template!r}")
    value = await session.scalar(
        text("select enqueue_mail(:t, :s, :staff)"), {"t": template, "s": subject, "staff": staff}
    )
    return uuid.UUID(str(value)) if value is not None else None
