"""The account mails: address verification, password reset (each with a link whose token is
minted here, at send time) and the notice that the password changed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.auth import repository
from dreamer.core import clock
from dreamer.core.config import Settings
from dreamer.mail.registry import MailContext, QueuedMail, provides
from dreamer.models import User


def _front(settings: Settings) -> str:
    return settings.frontend_url.rstrip("/")


@provides("verify_email")
async def verification(
    session: AsyncSession, settings: Settings, mail: QueuedMail
) -> MailContext | None:
    ttl = settings.verification_ttl_seconds
    if mail.user_id is None:
        return None
    token = await repository.store_link_token(
        session,
        mail.user_id,
        User.email_verification_token,
        {"email_verification_expires": clock.now() + timedelta(seconds=ttl)},
        only_if=User.email_verified.is_(False),
    )
    if token is None:
        return None  # verified (or gone) in the meantime
    link = f"{_front(settings)}/verify-email?token={token}"
    return MailContext({"link": link, "valid_hours": ttl // 3600}, link=link)


@provides("password_reset")
async def password_reset(
    session: AsyncSession, settings: Settings, mail: QueuedMail
) -> MailContext | None:
    ttl = settings.password_reset_ttl_seconds
    if mail.user_id is None:
        return None
    token = await repository.store_link_token(
        session,
        mail.user_id,
        User.password_reset_token,
        {"password_reset_expires": clock.now() + timedelta(seconds=ttl)},
    )
    if token is None:
        return None
    link = f"{_front(settings)}/reset-password?token={token}"
    return MailContext({"link": link, "valid_minutes": ttl // 60}, link=link)


@provides("password_changed")
async def password_changed(
    session: AsyncSession, settings: Settings, mail: QueuedMail
) -> MailContext | None:
    return MailContext({"reset_link": f"{_front(settings)}/forgot-password"})
