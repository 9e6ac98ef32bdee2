"""SQL for leads: capture, the filtered pipeline, timeline, rules, statistics, CSV."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal_column,
    select,
    table,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dreamer.db.repository import insert_and_get, insert_many
from dreamer.leads.schemas import LeadFilter
from dreamer.models import Lead, LeadActivity, LeadScoringRule

# The staff's pipeline reads the leads through the view ``staff_leads`` (db/sql/leads.sql):
# the same rows and columns for verified staff, none for anyone else, and its filters (enum
# equality, full-text search) can be index conditions, which under the table's policy they
# cannot. Rows come back as ``Lead`` objects.
StaffLead = aliased(
    Lead,
    table("staff_leads", *(column(c.name, c.type) for c in Lead.__table__.columns)),
    adapt_on_names=True,
)

SORTS = {
    "createdAt": StaffLead.created_at,
    "score": StaffLead.score,
    "lastActivityAt": StaffLead.last_activity_at,
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


def filtered(query: Select[Any], filters: LeadFilter) -> Select[Any]:
    """``query`` narrowed to the leads matching ``filters``."""
    conditions: list[Any] = []
    if filters.status is not None:
        conditions.append(StaffLead.status == filters.status)
    if filters.source is not None:
        conditions.append(StaffLead.source == filters.source)
    if filters.assigned_to is not None:
        conditions.append(StaffLead.assigned_to == filters.assigned_to)
    if filters.tag is not None:
        conditions.append(StaffLead.tags.contains([filters.tag]))
    if filters.min_score is not None:
        conditions.append(StaffLead.score >= filters.min_score)
    if filters.max_score is not None:
        conditions.append(StaffLead.score <= filters.max_score)
    if filters.created_from is not None:
        conditions.append(StaffLead.created_at >= filters.created_from)
    if filters.created_to is not None:
        conditions.append(StaffLead.created_at < filters.created_to)
    if filters.search:
        conditions.append(
            StaffLead.search.op("@@")(
                func.websearch_to_tsquery(
                    literal_column("'simple'::regconfig"), cast(filters.search, Text)
                )
            )
        )
    return query.where(and_(*conditions)) if conditions else query


async def page(
    session: AsyncSession,
    filters: LeadFilter,
    *,
    sort: str,
    descending: bool,
    after: tuple[Any, uuid.UUID] | None,
    limit: int,
) -> Sequence[Lead]:
    """Keyset pagination on (sort column, id): fast at any depth, stable under inserts."""
    column = SORTS[sort]
    query = filtered(select(StaffLead), filters)
    if filters.search:
        matches = await _few_matches(session, query)
        if matches is not None:  # a rare term: its rows by primary key, whatever the order
            query = query.where(StaffLead.id == any_(cast(matches, ARRAY(StaffLead.id.type))))
    if after is not None:  # a row comparison: the index on (column, id) starts right there
        position = tuple_(column, StaffLead.id)
        query = query.where(position < tuple_(*after) if descending else position > tuple_(*after))
    order = [*_fixed(filters, sort, descending)]
    order += (
        [column.desc(), StaffLead.id.desc()] if descending else [column.asc(), StaffLead.id.asc()]
    )
    query = query.order_by(*order).limit(limit)
    return (await session.scalars(query)).all()


# A search matching at most this many leads is read through the full-text index and sorted.
SEARCH_PROBE = 500


async def _few_matches(session: AsyncSession, query: Select[Any]) -> list[uuid.UUID] | None:
    """The ids of every lead ``query`` matches when there are at most ``SEARCH_PROBE``, else
    None.

    PostgreSQL estimates a term it has no statistics for (a name or an address nobody has) at
    0.5 % of the rows, so for a page in date order it walks the date index and tests every
    lead against the term: every row of the table, to find none. The probe asks the GIN index
    for at most ``SEARCH_PROBE + 1`` matches, in no order (a bitmap scan: a few hundred heap
    reads at most). A rare term's page is then those rows; a common term's page is the date
    walk, which finds a page within about ``limit / frequency`` rows, and the probe's bound
    keeps that short.
    """
    probe = query.with_only_columns(StaffLead.id).order_by(None).limit(SEARCH_PROBE + 1)
    ids = list((await session.scalars(probe)).all())
    return ids if len(ids) <= SEARCH_PROBE else None


def _fixed(filters: LeadFilter, sort: str, descending: bool) -> list[Any]:
    """The columns the filters fix, to lead the ORDER BY of a newest/oldest-first page.

    They change no order (each holds one value), but PostgreSQL does not see that an enum
    column compared to a constant is constant, so without them it cannot read the indexes on
    (source, status, created_at, id) and (status, created_at, id) in order: it scanned the
    newest leads and filtered them (15 ms and 5,600 rows for the first page of a rare status
    and source in 100k leads) or sorted every match. With them, a page is an index range (0.3
    ms), read forwards for newest first and backwards for oldest first.
    """
    if sort != "createdAt" or filters.status is None:
        return []
    columns = (
        [StaffLead.source, StaffLead.status] if filters.source is not None else [StaffLead.status]
    )
    return [c.asc() if descending else c.desc() for c in columns]


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
