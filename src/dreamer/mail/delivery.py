"""Send one outbox mail (run by the worker as the owner role).

The template's provider (``mail.registry``, registered by its domain) fills the mail in at send
time: mails with a secret link get their token then — its digest is stored, the token itself
only travels in the mail — and a retry makes a new token, so an earlier, undelivered one can
never be used.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select, update

from dreamer.core import clock
from dreamer.core.config import Settings
from dreamer.db.session import SYSTEM, Database
from dreamer.mail.registry import MailContext, provider_for
from dreamer.mail.render import compose, render
from dreamer.mail.transport import FileTransport, SmtpTransport, Transport
from dreamer.models import MailOutbox, MailStatus

log = logging.getLogger("dreamer.mail")


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_url:
        return SmtpTransport(settings.smtp_url)
    return FileTransport(settings.dreamer_home / "mail")


@dataclass(frozen=True)
class Mailer:
    db: Database
    settings: Settings
    transport: Transport

    async def deliver(self, outbox_id: uuid.UUID, *, final_attempt: bool = False) -> bool:
        """Send the mail unless already sent; returns True when a mail went out."""
        prepared = await self._prepare(outbox_id)
        if prepared is None:
            return False
        message, link = prepared
        try:
            await self.transport.send(message)
        except Exception as exc:
            await self._mark(
                outbox_id,
                MailStatus.FAILED if final_attempt else MailStatus.PENDING,
                error=f"{type(exc).__name__}: {exc}"[:500],
            )
            raise
        await self._mark(outbox_id, MailStatus.SENT, error=None)
        if link and isinstance(self.transport, FileTransport):
            # Development only (no SMTP_URL): the link a developer would click in the mail.
            log.info("mail link for %s: %s", message["To"], link)
        return True

    async def _prepare(self, outbox_id: uuid.UUID) -> tuple[EmailMessage, str | None] | None:
        async with self.db.transaction(SYSTEM) as session:
            mail = await session.scalar(
                select(MailOutbox)
                .where(MailOutbox.id == outbox_id)
                .with_for_update(skip_locked=True)
            )
            if mail is None or mail.status == MailStatus.SENT:
                return None
            mail.attempts += 1
            filled = await provider_for(mail.template)(session, self.settings, mail)
            if filled is None:
                mail.status, mail.last_error = MailStatus.SENT, "skipped: no longer needed"
                return None
            merged = MailContext(
                {**mail.context, **filled.variables},
                filled.headers,
                filled.attachments,
                filled.link,
            )
            parts = render(mail.template, merged)
            return compose(parts, sender=self.settings.mail_from, to=mail.to_address), filled.link

    async def _mark(self, outbox_id: uuid.UUID, status: MailStatus, error: str | None) -> None:
        async with self.db.transaction(SYSTEM) as session:
            await session.execute(
                update(MailOutbox)
                .where(MailOutbox.id == outbox_id)
                .values(
                    status=status,
                    last_error=error,
                    sent_at=clock.now() if status == MailStatus.SENT else None,
                )
            )
