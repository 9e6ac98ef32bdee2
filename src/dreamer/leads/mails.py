"""The mail that tells staff about a new lead (its assignee, or every staff member)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.core.config import Settings
from dreamer.leads import repository
from dreamer.mail.registry import MailContext, QueuedMail, provides


@provides("lead_new")
async def new_lead(
    session: AsyncSession, settings: Settings, mail: QueuedMail
) -> MailContext | None:
    lead = await repository.get(session, uuid.UUID(str(mail.context["lead_id"])))
    if lead is None:
        return None
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.email
    front = settings.frontend_url.rstrip("/")
    return MailContext(
        {
            "lead_name": name,
            "lead_email": lead.email,
            "company": lead.company,
            "inquiry_type": lead.inquiry_type,
            "score": lead.score,
            "message": lead.message,
            "assigned": lead.assigned_to == mail.user_id,
            "link": f"{front}/admin/leads/{lead.id}",
        }
    )
