"""SQL for leads: capture, the filtered pipeline, timeline, rules, statistics, CSV."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Text,
    Uuid,
    any_,
    bindparam,
    cast,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.db.repository import insert_and_get, insert_many
from dreamer.leads.schemas import LeadFilter
from dreamer.models import Lead, LeadActivity, LeadScoringRule

SORTS = {
    "createdAt": Lead.created_at,
    "score": Lead.score,
    "lastActivityAt": Lead.last_activity_at,
}


@dataclass(frozen=True)
class Captured:
    lead_id: uuid.UUID
    created: bool
    assignee: uuid.UUID | None


async def capture(session: AsyncSession, payload: dict[str, Any]) -> Captured:
    row = (
        await session.execute(
            text("select * from capture_lead(cast(:p as jsonb))"), {"p": json.dumps(payload)}
        )
    ).one()
    return Captured(row.lead_id, row.created, row.assignee)


_PAGE = text("select staff_lead_page(cast(:p as jsonb))")


async def page(
    session: AsyncSession,
    filters: LeadFilter,
    *,
    sort: str,
    descending: bool,
    after: tuple[Any, uuid.UUID] | None,
    limit: int,
) -> Sequence[Lead]:
    """Keyset pagination on (sort column, id): fast at any depth, stable under inserts.

    ``staff_lead_page()`` (db/sql/leads.sql) picks the page's ids where the filters can be
    index conditions; the rows are then read here, under RLS, by primary key."""
    given = {k: v for k, v in asdict(filters).items() if v is not None and v != ""}
    args = {**given, "sort": SORTS[sort].key, "descending": descending, "limit": limit}
    if after is not None:
        args["after_value"], args["after_id"] = after
    ids = list((await session.scalars(_PAGE, {"p": orjson.dumps(args).decode()})).all())
    if not ids:
        return []
    rows = await session.scalars(select(Lead).where(Lead.id == any_(cast(ids, ARRAY(Uuid)))))
    position = {lead_id: n for n, lead_id in enumerate(ids)}
    return sorted(rows.all(), key=lambda lead: position[lead.id])


async def get(session: AsyncSession, lead_id: uuid.UUID) -> Lead | None:
    query = select(Lead).where(Lead.id == lead_id).execution_options(populate_existing=True)
    return (await session.scalars(query)).one_or_none()


async def update_fields(session: AsyncSession, lead_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(update(Lead).where(Lead.id == lead_id).values(**values))


async def timeline(session: AsyncSession, lead_id: uuid.UUID) -> Sequence[LeadActivity]:
    query = (
        select(LeadActivity)
        .where(LeadActivity.lead_id == lead_id)
        .order_by(LeadActivity.created_at.desc(), LeadActivity.id.desc())
    )
    return (await session.scalars(query)).all()


async def add_activity(session: AsyncSession, values: dict[str, Any]) -> LeadActivity:
    return await insert_and_get(session, LeadActivity, values)


async def rules(session: AsyncSession) -> Sequence[LeadScoringRule]:
    query = select(LeadScoringRule).order_by(LeadScoringRule.sort_order, LeadScoringRule.name)
    return (await session.scalars(query)).all()


async def add_rule(session: AsyncSession, values: dict[str, Any]) -> LeadScoringRule:
    return await insert_and_get(session, LeadScoringRule, values)


async def change_rule(
    session: AsyncSession, rule_id: uuid.UUID, values: dict[str, Any]
) -> LeadScoringRule | None:
    result = await session.execute(
        update(LeadScoringRule)
        .where(LeadScoringRule.id == rule_id)
        .values(**values)
        .returning(LeadScoringRule.id)
    )
    if result.first() is None:
        return None
    return await session.get(LeadScoringRule, rule_id, populate_existing=True)


async def remove_rule(session: AsyncSession, rule_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(LeadScoringRule).where(LeadScoringRule.id == rule_id).returning(LeadScoringRule.id)
    )
    return result.first() is not None


async def recompute_scores(session: AsyncSession) -> int:
    return int(await session.scalar(text("select recompute_lead_scores()")) or 0)


async def stats(session: AsyncSession) -> dict[str, Any]:
    """Counts per status and source, conversion rate per source, median time to first contact
    (``lead_stats()``: one round trip, aggregated from the indexes)."""
    value = await session.scalar(text("select lead_stats()"))
    return dict(value or {})


EXPORT_BATCH = 1000


async def stream(
    session: AsyncSession,
    filters: LeadFilter,
    after: tuple[dt.datetime, uuid.UUID] | None = None,
    batch: int = EXPORT_BATCH,
) -> AsyncIterator[Sequence[Lead]]:
    """Matching leads in batches (keyset on created_at, id), for the CSV export."""
    while True:
        rows = await page(
            session, filters, sort="createdAt", descending=False, after=after, limit=batch
        )
        if not rows:
            return
        yield rows
        after = (rows[-1].created_at, rows[-1].id)


async def by_emails(session: AsyncSession, emails: list[str]) -> dict[str, Lead]:
    """The newest lead of each normalised address."""
    if not emails:
        return {}
    query = (
        select(Lead)
        .where(Lead.email_normalized == any_(bindparam("emails", emails, type_=ARRAY(Text))))
        .order_by(Lead.email_normalized, Lead.created_at.desc())
        .ext(distinct_on(Lead.email_normalized))
    )
    return {lead.email_normalized or "": lead for lead in (await session.scalars(query)).all()}


async def insert_leads(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert many leads (an import), in batches."""
    await insert_many(session, Lead, rows)
