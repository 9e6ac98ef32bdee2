"""Newsletter mails. Every one carries the one-click unsubscribe headers of RFC 8058; the
confirmation mail also gets a fresh single-use confirmation token, minted here."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.core import clock, signing
from dreamer.core.config import Settings
from dreamer.core.security import new_token, token_digest
from dreamer.mail.registry import MailContext, QueuedMail, provides
from dreamer.newsletter import repository

CONFIRMATION_TTL = timedelta(days=7)


@provides("newsletter_confirm", "newsletter_welcome")
async def subscription_mail(
    session: AsyncSession, settings: Settings, mail: QueuedMail
) -> MailContext | None:
    subscription = await repository.get(session, uuid.UUID(str(mail.context["subscription_id"])))
    if subscription is None:
        return None
    unsubscribe = signing.unsubscribe_token(settings.resolved_secret_key(), subscription.email)
    api = settings.public_url
    unsubscribe_url = f"{api}/api/v1/newsletter/unsubscribe?token={unsubscribe}"
    variables: dict[str, object] = {"unsubscribe_link": unsubscribe_url}
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    link = None
    if mail.template == "newsletter_confirm":
        if subscription.is_active:
            return None  # confirmed in the meantime
        token = new_token(32)
        subscription.confirmation_token = token_digest(token)
        subscription.confirmation_expires = clock.now() + CONFIRMATION_TTL
        link = f"{settings.links_url}/newsletter/confirm?token={token}"
        variables["link"] = link
    return MailContext(variables, headers, link=link)
