"""Send one outbox mail (run by the worker as the owner role).

Mails that carry a secret link get their token here, at send time: the token's digest is
stored, the token itself only travels in the mail. A retry makes a new token, so an earlier,
undelivered one can never be used.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.bookings.ics import calendar
from dreamer.core import clock, signing
from dreamer.core.config import Settings
from dreamer.core.security import new_token, token_digest
from dreamer.db.session import SYSTEM, Database
from dreamer.mail.render import render
from dreamer.mail.transport import FileTransport, SmtpTransport, Transport
from dreamer.models import (
    Lead,
    MailOutbox,
    MailStatus,
    NewsletterSubscription,
    Service,
    ServiceBooking,
    User,
)

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

    async def _prepare(self, outbox_id: uuid.UUID) -> tuple[Any, str | None] | None:
        async with self.db.transaction(SYSTEM) as session:
            mail = await session.scalar(
                select(MailOutbox)
                .where(MailOutbox.id == outbox_id)
                .with_for_update(skip_locked=True)
            )
            if mail is None or mail.status == MailStatus.SENT:
                return None
            mail.attempts += 1
            context = dict(mail.context)
            links = await self._links(session, mail)
            if links is None:
                mail.status, mail.last_error = MailStatus.SENT, "skipped: no longer needed"
                return None
            attachments = links.pop("_attachments", [])
            headers = links.pop("_headers", {})
            context.update(links)
            message = render(
                mail.template,
                sender=self.settings.mail_from,
                to=mail.to_address,
                context=context,
                attachments=attachments,
                headers=headers,
            )
            return message, links.get("link")

    async def _links(self, session: AsyncSession, mail: MailOutbox) -> dict[str, Any] | None:
        front = self.settings.frontend_url.rstrip("/")
        now = clock.now()
        if mail.template == "verify_email":
            ttl = self.settings.verification_ttl_seconds
            token = await self._store_token(
                session,
                mail.user_id,
                User.email_verification_token,
                {"email_verification_expires": now + timedelta(seconds=ttl)},
                only_if=User.email_verified.is_(False),
            )
            if token is None:
                return None
            return {"link": f"{front}/verify-email?token={token}", "valid_hours": ttl // 3600}
        if mail.template == "password_reset":
            ttl = self.settings.password_reset_ttl_seconds
            token = await self._store_token(
                session,
                mail.user_id,
                User.password_reset_token,
                {"password_reset_expires": now + timedelta(seconds=ttl)},
            )
            if token is None:
                return None
            return {"link": f"{front}/reset-password?token={token}", "valid_minutes": ttl // 60}
        if mail.template.startswith("booking_"):
            return await self._booking(session, mail)
        if mail.template.startswith("newsletter_"):
            return await self._newsletter(session, mail)
        if mail.template == "lead_new":
            return await self._lead(session, mail)
        return {"reset_link": f"{front}/forgot-password"}

    async def _newsletter(self, session: AsyncSession, mail: MailOutbox) -> dict[str, Any] | None:
        """Every newsletter mail carries the one-click unsubscribe headers of RFC 8058; the
        confirmation mail also gets a fresh single-use confirmation token."""
        subscription = await session.get(
            NewsletterSubscription, uuid.UUID(mail.context["subscription_id"])
        )
        if subscription is None:
            return None
        unsubscribe = signing.unsubscribe_token(
            self.settings.resolved_secret_key(), subscription.email
        )
        api = self.settings.public_url.rstrip("/")
        unsubscribe_url = f"{api}/api/v1/newsletter/unsubscribe?token={unsubscribe}"
        extra: dict[str, Any] = {
            "unsubscribe_link": unsubscribe_url,
            "_headers": {
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        }
        if mail.template == "newsletter_confirm":
            if subscription.is_active:
                return None  # confirmed in the meantime
            token = new_token(32)
            subscription.confirmation_token = token_digest(token)
            subscription.confirmation_expires = clock.now() + timedelta(days=7)
            front = self.settings.frontend_url.rstrip("/")
            extra["link"] = f"{front}/newsletter/confirm?token={token}"
        return extra

    async def _lead(self, session: AsyncSession, mail: MailOutbox) -> dict[str, Any] | None:
        lead = await session.get(Lead, uuid.UUID(mail.context["lead_id"]))
        if lead is None:
            return None
        name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.email
        front = self.settings.frontend_url.rstrip("/")
        return {
            "lead_name": name,
            "lead_email": lead.email,
            "company": lead.company,
            "inquiry_type": lead.inquiry_type,
            "score": lead.score,
            "message": lead.message,
            "assigned": lead.assigned_to == mail.user_id,
            "link": f"{front}/admin/leads/{lead.id}",
        }

    async def _booking(self, session: AsyncSession, mail: MailOutbox) -> dict[str, Any] | None:
        """Details of the booking as it is *now*, and its calendar file."""
        booking = await session.get(ServiceBooking, uuid.UUID(mail.context["booking_id"]))
        if booking is None:
            return None
        service = await session.get(Service, booking.service_id)
        user = await session.get(User, booking.user_id) if booking.user_id else None
        tz = ZoneInfo(booking.time_zone)
        name = service.name if service else "Consultation"
        ics = calendar(
            booking,
            service_name=name,
            organizer=parseaddr(self.settings.mail_from)[1],
            attendee=mail.to_address,
        )
        return {
            "first_name": user.first_name if user else None,
            "service_name": name,
            "consultation_type": booking.consultation_type.value,
            "when_local": booking.scheduled_at.astimezone(tz).strftime("%A %d %B %Y, %H:%M"),
            "time_zone": booking.time_zone,
            "duration": booking.duration_minutes,
            "meeting_link": booking.meeting_link,
            "reason": booking.cancellation_reason,
            "_attachments": [(f"booking-{booking.id}.ics", "text/calendar", ics)],
        }

    @staticmethod
    async def _store_token(
        session: AsyncSession,
        user_id: uuid.UUID | None,
        column: Any,
        extra: dict[str, Any],
        only_if: Any = None,
    ) -> str | None:
        if user_id is None:
            return None
        token = new_token(32)
        statement = (
            update(User)
            .where(User.id == user_id)
            .values({column.key: token_digest(token), **extra})
            .returning(User.id)
        )
        if only_if is not None:
            statement = statement.where(only_if)
        updated = (await session.execute(statement)).first()
        return token if updated else None

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
