"""Lead capture (public) and the sales pipeline (staff)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.core.errors import BadRequest, Conflict, NotFound, ValidationFailed
from dreamer.leads import repository
from dreamer.leads.repository import LeadFilter
from dreamer.models import Lead, LeadActivity, LeadScoringRule, LeadStatus, UserRole
from dreamer.users import repository as users_repository

OPEN = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.NEGOTIATING)
TERMINAL = frozenset({LeadStatus.CONVERTED, LeadStatus.LOST})
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer")


def split_name(name: str | None) -> tuple[str | None, str | None]:
    if not name:
        return None, None
    first, _, last = name.strip().partition(" ")
    return first or None, last.strip() or None


def capture_payload(data: dict[str, Any], ip: str | None) -> dict[str, Any]:
    """The form as ``capture_lead`` takes it: names split, UTM fields into source_details."""
    first, last = data.get("first_name"), data.get("last_name")
    if not first and not last:
        first, last = split_name(data.get("name"))
    details = {k: data[k] for k in UTM if data.get(k)}
    if ip:
        details["ip"] = ip
    return {
        "email": data["email"],
        "first_name": first,
        "last_name": last,
        "company": data.get("company"),
        "phone": data.get("phone"),
        "message": data.get("message"),
        "inquiry_type": (data.get("inquiry_type") or data.get("type") or "general").lower(),
        "source": data["source"].value if data.get("source") else "website",
        "source_details": details,
    }


async def capture(session: AsyncSession, payload: dict[str, Any]) -> repository.Captured:
    return await repository.capture(session, payload)


def _encode(value: Any, ident: uuid.UUID) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, dt.datetime) else value, str(ident)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> tuple[Any, uuid.UUID]:
    try:
        value, ident = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if sort != "score":
            value = dt.datetime.fromisoformat(value)
        return value, uuid.UUID(ident)
    except (ValueError, TypeError):
        raise BadRequest("Malformed cursor") from None


async def page(
    session: AsyncSession, filters: LeadFilter, *, sort: str, cursor: str | None, limit: int
) -> tuple[Sequence[Lead], str | None]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in repository.SORTS:
        raise ValidationFailed(f"sort by one of {', '.join(repository.SORTS)} (prefix - for desc)")
    after = _decode(cursor, key) if cursor else None
    rows = await repository.page(
        session, filters, sort=key, descending=descending, after=after, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if not (more and rows):
        return rows, None
    last = rows[-1]
    return rows, _encode(getattr(last, repository.SORTS[key].key), last.id)


async def get(session: AsyncSession, lead_id: uuid.UUID) -> Lead:
    lead = await repository.get(session, lead_id)
    if lead is None:
        raise NotFound("No such lead")
    return lead


def _check_status(lead: Lead, target: LeadStatus, lost_reason: str | None) -> None:
    if lead.status in TERMINAL and target != lead.status:
        raise Conflict(f"A {lead.status.value} lead is closed")
    if target == LeadStatus.LOST and not (lost_reason or lead.lost_reason):
        raise ValidationFailed("A lost lead needs a lostReason")
    if target in OPEN and lead.status in OPEN and OPEN.index(target) < OPEN.index(lead.status):
        raise Conflict(f"The pipeline moves forward: {lead.status.value} → {target.value}")


async def change(session: AsyncSession, lead_id: uuid.UUID, changes: dict[str, Any]) -> Lead:
    """Status, owner, tags, notes; the timeline records each change by itself (trigger)."""
    lead = await get(session, lead_id)
    if "status" in changes and changes["status"] is not None:
        _check_status(lead, changes["status"], changes.get("lost_reason"))
    if changes.get("assigned_to") is not None:
        assignee = await users_repository.get(session, changes["assigned_to"])
        if assignee is None or assignee.role not in (UserRole.ADMIN, UserRole.SUPER_ADMIN):
            raise ValidationFailed("Leads are assigned to staff members")
    values = {k: v for k, v in changes.items() if k != "status" or v is not None}
    if values:
        await repository.update_fields(session, lead_id, values)
    return await get(session, lead_id)


async def timeline(session: AsyncSession, lead_id: uuid.UUID) -> Sequence[LeadActivity]:
    await get(session, lead_id)
    return await repository.timeline(session, lead_id)


async def add_activity(
    session: AsyncSession, lead_id: uuid.UUID, user_id: uuid.UUID | None, data: dict[str, Any]
) -> LeadActivity:
    await get(session, lead_id)
    metadata = data.pop("metadata", {})
    return await repository.add_activity(
        session, {"lead_id": lead_id, "user_id": user_id, "metadata_": metadata, **data}
    )


async def convert(session: AsyncSession, lead_id: uuid.UUID) -> Lead:
    """Link the lead to its client account (created when missing) and mark it converted."""
    lead = await get(session, lead_id)
    if lead.status == LeadStatus.CONVERTED:
        return lead
    if lead.status == LeadStatus.LOST:
        raise Conflict("A lost lead cannot be converted; reopen it as a new inquiry")
    user_id = lead.user_id or await users_repository.id_by_email(session, lead.email)
    if user_id is None:
        user_id = await users_repository.create_client(
            session,
            email=lead.email,
            first_name=lead.first_name or lead.email.split("@")[0],
            last_name=lead.last_name or "-",
            company=lead.company,
            phone=lead.phone,
        )
    else:
        user = await users_repository.get(session, user_id)
        if user is not None and user.role == UserRole.VISITOR:
            await users_repository.update_fields(session, user_id, {"role": UserRole.CLIENT})
    await repository.update_fields(
        session, lead_id, {"user_id": user_id, "status": LeadStatus.CONVERTED}
    )
    return await get(session, lead_id)


async def rules(session: AsyncSession) -> Sequence[LeadScoringRule]:
    return await repository.rules(session)


def _check_rule(data: dict[str, Any]) -> None:
    needs = {
        "field_present": ("field",),
        "field_equals": ("field", "value"),
        "event": ("event",),
        "inactivity": ("days",),
    }[data["kind"]]
    missing = [n for n in needs if data.get(n) is None]
    if missing:
        raise ValidationFailed(f"A {data['kind']} rule needs {', '.join(missing)}")


async def add_rule(session: AsyncSession, data: dict[str, Any]) -> LeadScoringRule:
    _check_rule(data)
    return await repository.add_rule(session, data)


async def change_rule(
    session: AsyncSession, rule_id: uuid.UUID, data: dict[str, Any]
) -> LeadScoringRule:
    _check_rule(data)
    rule = await repository.change_rule(session, rule_id, data)
    if rule is None:
        raise NotFound("No such rule")
    return rule


async def remove_rule(session: AsyncSession, rule_id: uuid.UUID) -> None:
    if not await repository.remove_rule(session, rule_id):
        raise NotFound("No such rule")
