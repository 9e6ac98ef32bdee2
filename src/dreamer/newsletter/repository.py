"""SQL for the newsletter. Subscribing, confirming and unsubscribing go through SECURITY
DEFINER functions (anonymous callers may not read subscriptions)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, Row, Text, any_, bindparam, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.db.repository import insert_many
from dreamer.models import NewsletterSubscription

STATES = ("active", "pending", "unsubscribed")


async def subscribe(
    session: AsyncSession,
    *,
    email: str,
    tags: list[str],
    consent: dict[str, Any],
    user_id: uuid.UUID | None,
    unsubscribe_hash: str,
) -> Row[Any]:
    return (
        await session.execute(
            text(
                "select * from newsletter_subscribe(:e, cast(:t as jsonb), cast(:c as jsonb),"
                " :u, :h)"
            ),
            {
                "e": email,
                "t": json.dumps(tags),
                "c": json.dumps(consent),
                "u": user_id,
                "h": unsubscribe_hash,
            },
        )
    ).one()


async def confirm(
    session: AsyncSession, token_hash: str, now: dt.datetime, consent: dict[str, Any]
) -> Row[Any] | None:
    return (
        await session.execute(
            text("select * from newsletter_confirm(:t, :now, cast(:c as jsonb))"),
            {"t": token_hash, "now": now, "c": json.dumps(consent)},
        )
    ).one_or_none()


async def unsubscribe(session: AsyncSession, token_hash: str, now: dt.datetime) -> bool:
    value = await session.scalar(
        text("select newsletter_unsubscribe(:t, :now)"), {"t": token_hash, "now": now}
    )
    return value is not None


def _state(query: Any, state: str | None) -> Any:
    if state == "active":
        return query.where(NewsletterSubscription.is_active)
    if state == "pending":
        return query.where(
            ~NewsletterSubscription.is_active, NewsletterSubscription.unsubscribed_at.is_(None)
        )
    if state == "unsubscribed":
        return query.where(
            NewsletterSubscription.unsubscribed_at.is_not(None), ~NewsletterSubscription.is_active
        )
    return query


async def page(
    session: AsyncSession,
    *,
    state: str | None,
    tag: str | None,
    search: str | None,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[NewsletterSubscription]:
    query = _state(select(NewsletterSubscription), state)
    if tag:
        query = query.where(NewsletterSubscription.tags.contains([tag]))
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(NewsletterSubscription.email.ilike(f"%{escaped}%", escape="\\"))
    if after is not None:
        at, ident = after
        query = query.where(
            or_(
                NewsletterSubscription.created_at < at,
                (NewsletterSubscription.created_at == at) & (NewsletterSubscription.id < ident),
            )
        )
    query = query.order_by(
        NewsletterSubscription.created_at.desc(), NewsletterSubscription.id.desc()
    ).limit(limit)
    return (await session.scalars(query)).all()


async def set_tags(
    session: AsyncSession, subscription_id: uuid.UUID, tags: list[str]
) -> NewsletterSubscription | None:
    result = await session.execute(
        update(NewsletterSubscription)
        .where(NewsletterSubscription.id == subscription_id)
        .values(tags=tags)
        .returning(NewsletterSubscription.id)
    )
    if result.first() is None:
        return None
    return await session.get(NewsletterSubscription, subscription_id, populate_existing=True)


async def counts(session: AsyncSession) -> dict[str, int]:
    result = {}
    for state in STATES:
        query = _state(select(func.count()).select_from(NewsletterSubscription), state)
        result[state] = int(await session.scalar(query) or 0)
    return result


async def suppressed_among(session: AsyncSession, emails: list[str]) -> set[str]:
    """Which of these addresses (lower-cased) are suppressed: one query for the whole list."""
    rows = await session.execute(
        text("select e from unnest(cast(:emails as text[])) e where newsletter_is_suppressed(e)"),
        {"emails": emails},
    )
    return {str(r.e).lower() for r in rows}


async def existing_among(session: AsyncSession, emails: list[str]) -> set[str]:
    """Which of these addresses (lower-cased) have a subscription: one query."""
    lowered = [e.lower() for e in emails]
    # One array parameter, not one per address: a bind list beyond 32,767 items is refused.
    wanted = bindparam("emails", lowered, type_=ARRAY(Text))
    query = select(func.lower(NewsletterSubscription.email)).where(
        func.lower(NewsletterSubscription.email) == any_(wanted)
    )
    return set((await session.scalars(query)).all())


async def insert_confirmed(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert imported (already confirmed) subscribers, in batches."""
    await insert_many(session, NewsletterSubscription, rows)


async def get(session: AsyncSession, subscription_id: uuid.UUID) -> NewsletterSubscription | None:
    return await session.get(NewsletterSubscription, subscription_id)
