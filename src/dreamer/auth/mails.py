"""The account mails: address verification, password reset (each with a link whose token is
minted here, at send time) and the notice that the password changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dreamer.auth import repository
from dreamer.core import clock
from dreamer.core.config import Settings
from dreamer.mail.registry import MailContext, QueuedMail, provides
from dreamer.models import User


@dataclass(frozen=True)
class LinkMail:
    """A mail whose link carries a token kept only as a digest in ``column``."""

    path: str
    column: InstrumentedAttribute[str | None]
    expires: str
    ttl: Callable[[Settings], int]
    only_if: ColumnElement[bool] | None = None


async def _mail_link(
    session: AsyncSession,
    settings: Settings,
    mail: QueuedMail,
    link: LinkMail,
) -> str | None:
    """Mint the token of ``link`` for the mail's account; the link, or None if not needed."""
    if mail.user_id is None:
        return None
    token = await repository.store_link_token(
        session,
        mail.user_id,
        link.column,
        {link.expires: clock.now() + timedelta(seconds=link.ttl(settings))},
        only_if=link.only_if,
    )
    return f"{settings.links_url}{link.path}?token={token}" if token else None


VERIFY = LinkMail(
    "/verify-email",
    User.email_verification_token,
    "email_verification_expires",
    lambda s: s.verification_ttl_seconds,
    only_if=User.email_verified.is_(False),  # verified in the meantime: no mail
)
RESET = LinkMail(
    "/reset-password",
    User.password_reset_token,
    "password_reset_expires",
    lambda s: s.password_reset_ttl_seconds,
)


@provides("verify_email")
async def verification(
    session: AsyncSession, settings: Settings, mail: QueuedMail
) -> MailContext | None:
    link = await _mail_link(session, settings, mail, VERIFY)
    if link is None:
        return None
    return MailContext({"link": link, "valid_hours": VERIFY.ttl(settings) // 3600}, link=link)


@provides("password_reset")
async def password_reset(
    session: AsyncSession, settings: Settings, mail: QueuedMail
) -> MailContext | None:
    link = await _mail_link(session, settings, mail, RESET)
    if link is None:
        return None
    return MailContext({"link": link, "valid_minutes": RESET.ttl(settings) // 60}, link=link)


@provides("password_changed")
async def password_changed(
    session: AsyncSession, settings: Settings, mail: QueuedMail
) -> MailContext | None:
    return MailContext({"reset_link": f"{settings.links_url}/forgot-password"})
