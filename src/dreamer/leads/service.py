"""Lead capture (public) and the sales pipeline (staff)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.core import csvio
from dreamer.core.errors import Conflict, NotFound, ValidationFailed
from dreamer.core.pagination import BY_TIME, Parser, decode_cursor, split_page
from dreamer.db.repository import Position, export_rows
from dreamer.db.session import Database, RequestContext
from dreamer.leads import exchange, repository
from dreamer.leads.schemas import ActivityIn, ContactIn, LeadFilter, LeadPatch, RuleIn
from dreamer.models import Lead, LeadActivity, LeadScoringRule, LeadStatus
from dreamer.users import service as users

OPEN = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.NEGOTIATING)
TERMINAL = frozenset({LeadStatus.CONVERTED, LeadStatus.LOST})
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer")


def split_name(name: str | None) -> tuple[str | None, str | None]:
    if not name:
        return None, None
    first, _, last = name.strip().partition(" ")
    return first or None, last.strip() or None


def capture_payload(form: ContactIn, ip: str | None) -> dict[str, Any]:
    """The form as ``capture_lead`` takes it: names split, UTM fields into source_details."""
    first, last = form.first_name, form.last_name
    if not first and not last:
        first, last = split_name(form.name)
    details: dict[str, Any] = {k: getattr(form, k) for k in UTM if getattr(form, k)}
    if ip:
        details["ip"] = ip
    return {
        "email": form.email,
        "first_name": first,
        "last_name": last,
        "company": form.company,
        "phone": form.phone,
        "message": form.message,
        "inquiry_type": (form.inquiry_type or form.type or "general").lower(),
        "source": form.source.value if form.source else "website",
        "source_details": details,
    }


async def capture(session: AsyncSession, form: ContactIn, ip: str | None) -> repository.Captured:
    return await repository.capture(session, capture_payload(form, ip))


async def capture_from_chat(
    session: AsyncSession, *, email: str, message: str, conversation_id: uuid.UUID
) -> repository.Captured:
    """A visitor who asked the chat assistant to be contacted: a new lead, or an inquiry on
    their open one, its activity naming the conversation."""
    payload = {
        "email": email,
        "message": message,
        "inquiry_type": "chat",
        "source": "website",
        "source_details": {"channel": "chat", "conversation_id": str(conversation_id)},
    }
    return await repository.capture(session, payload)


def _sort(sort: str) -> tuple[str, bool]:
    key = sort.lstrip("-")
    if key not in repository.SORTS:
        raise ValidationFailed(f"sort by one of {', '.join(repository.SORTS)} (prefix - for desc)")
    return key, sort.startswith("-")


def _position_parsers(key: str) -> tuple[Parser, ...]:
    return (int, uuid.UUID) if key == "score" else BY_TIME


async def page(
    session: AsyncSession, filters: LeadFilter, *, sort: str, cursor: str | None, limit: int
) -> tuple[Sequence[Lead], str | None]:
    key, descending = _sort(sort)
    after = decode_cursor(cursor, _position_parsers(key)) if cursor else None
    rows = await repository.page(
        session, filters, sort=key, descending=descending, after=after, limit=limit + 1
    )
    column = repository.SORTS[key].key
    return split_page(rows, limit, lambda lead: (getattr(lead, column), lead.id))


async def stats(session: AsyncSession) -> dict[str, Any]:
    """Counts per status and source, conversion rate per source, median time to first contact."""
    return await repository.stats(session)


async def export_csv(
    session: AsyncSession, database: Database, ctx: RequestContext, filters: LeadFilter
) -> AsyncIterator[str]:
    """The leads matching ``filters``, oldest first, as CSV lines."""

    async def fetch(s: AsyncSession, after: Position | None, n: int) -> Sequence[Lead]:
        return await repository.page(
            s, filters, sort="createdAt", descending=False, after=after, limit=n
        )

    leads = await export_rows(session, database, ctx, fetch, lambda r: (r.created_at, r.id))
    return csvio.stream(exchange.COLUMNS, (exchange.cells(lead) async for lead in leads))


async def import_csv(session: AsyncSession, content: bytes, *, dry_run: bool) -> csvio.ImportReport:
    """Create or merge leads from a CSV (header with at least ``email``); see ``exchange``."""
    try:
        rows = csvio.read(content, required=("email",))
    except csvio.CsvError as exc:
        raise ValidationFailed(str(exc)) from None
    return await exchange.import_rows(session, rows, dry_run=dry_run)


async def get(session: AsyncSession, lead_id: uuid.UUID) -> Lead:
    lead = await repository.get(session, lead_id)
    if lead is None:
        raise NotFound("No such lead")
    return lead


def check_transition(current: LeadStatus, target: LeadStatus, lost_reason: str | None) -> None:
    """The pipeline moves forward through the open stages; converted and lost are final; a
    lead is lost only with a reason (``lost_reason``: the new one, or the one it has)."""
    if current in TERMINAL and target != current:
        raise Conflict(f"A {current.value} lead is closed")
    if target == LeadStatus.LOST and not lost_reason:
        raise ValidationFailed("A lost lead needs a lostReason")
    if target in OPEN and current in OPEN and OPEN.index(target) < OPEN.index(current):
        raise Conflict(f"The pipeline moves forward: {current.value} → {target.value}")


async def change(session: AsyncSession, lead_id: uuid.UUID, patch: LeadPatch) -> Lead:
    """Status, owner, tags, notes (those sent); the timeline records each change (trigger)."""
    lead = await get(session, lead_id)
    if patch.status is not None:
        check_transition(lead.status, patch.status, patch.lost_reason or lead.lost_reason)
    if patch.assigned_to is not None and not await users.is_staff_member(
        session, patch.assigned_to
    ):
        raise ValidationFailed("Leads are assigned to staff members")
    changes = patch.model_dump(exclude_unset=True)
    values = {k: v for k, v in changes.items() if k != "status" or v is not None}
    if values:
        await repository.update_fields(session, lead_id, values)
    return await get(session, lead_id)


async def timeline(session: AsyncSession, lead_id: uuid.UUID) -> Sequence[LeadActivity]:
    await get(session, lead_id)
    return await repository.timeline(session, lead_id)


async def add_activity(
    session: AsyncSession, lead_id: uuid.UUID, user_id: uuid.UUID | None, entry: ActivityIn
) -> LeadActivity:
    await get(session, lead_id)
    return await repository.add_activity(
        session,
        {
            "lead_id": lead_id,
            "user_id": user_id,
            "activity_type": entry.activity_type,
            "description": entry.description,
            "metadata_": entry.metadata,
        },
    )


async def convert(session: AsyncSession, lead_id: uuid.UUID) -> Lead:
    """Link the lead to its client account (created when missing) and mark it converted."""
    lead = await get(session, lead_id)
    if lead.status == LeadStatus.CONVERTED:
        return lead
    if lead.status == LeadStatus.LOST:
        raise Conflict("A lost lead cannot be converted; reopen it as a new inquiry")
    linked = await users.find(session, lead.user_id) if lead.user_id else None
    if linked is not None:
        user_id = linked.id
        await users.promote_to_client(session, linked)
    else:
        user_id = await users.client_for(
            session,
            email=lead.email,
            first_name=lead.first_name or lead.email.split("@")[0],
            last_name=lead.last_name or "-",
            company=lead.company,
            phone=lead.phone,
        )
    await repository.update_fields(
        session, lead_id, {"user_id": user_id, "status": LeadStatus.CONVERTED}
    )
    return await get(session, lead_id)


async def rules(session: AsyncSession) -> Sequence[LeadScoringRule]:
    return await repository.rules(session)


RULE_NEEDS = {
    "field_present": ("field",),
    "field_equals": ("field", "value"),
    "event": ("event",),
    "inactivity": ("days",),
}


def check_rule(rule: RuleIn) -> None:
    """Each kind of rule needs its own fields (a field, a value, an event, a number of days)."""
    missing = [n for n in RULE_NEEDS[rule.kind] if getattr(rule, n) is None]
    if missing:
        raise ValidationFailed(f"A {rule.kind} rule needs {', '.join(missing)}")


async def add_rule(session: AsyncSession, rule: RuleIn) -> LeadScoringRule:
    check_rule(rule)
    return await repository.add_rule(session, rule.model_dump())


async def change_rule(session: AsyncSession, rule_id: uuid.UUID, rule: RuleIn) -> LeadScoringRule:
    check_rule(rule)
    found = await repository.change_rule(session, rule_id, rule.model_dump())
    if found is None:
        raise NotFound("No such rule")
    return found


async def remove_rule(session: AsyncSession, rule_id: uuid.UUID) -> None:
    if not await repository.remove_rule(session, rule_id):
        raise NotFound("No such rule")
