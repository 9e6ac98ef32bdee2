"""Double opt-in subscriptions, one-click unsubscribe, suppression, and staff tools."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from dreamer.core import clock, signing
from dreamer.core.errors import NotFound
from dreamer.core.pagination import decode_cursor, encode_cursor
from dreamer.core.security import token_digest
from dreamer.db.session import RequestContext
from dreamer.mail import outbox
from dreamer.models import NewsletterSubscription

STATES = ("active", "pending", "unsubscribed")


def consent(request: Request, ctx: RequestContext, action: str) -> dict[str, Any]:
    """What the person agreed to, when, from where (kept with the subscription)."""
    return {
        "action": action,
        "at": clock.now().isoformat(),
        "ip": ctx.ip,
        "wording": request.app.state.settings.newsletter_consent_version,
        "userAgent": (ctx.user_agent or "")[:300] or None,
    }


async def subscribe(
    session: AsyncSession, request: Request, ctx: RequestContext, email: str, tags: list[str]
) -> None:
    """Pending until confirmed; an active subscription stays as it is. The caller always gets
    the same answer."""
    secret = request.app.state.secret_key
    unsubscribe_hash = token_digest(signing.unsubscribe_token(secret, email))
    row = (
        await session.execute(
            text(
                "select * from newsletter_subscribe(:e, cast(:t as jsonb), cast(:c as jsonb),"
                " :u, :h)"
            ),
            {
                "e": email,
                "t": json.dumps(tags),
                "c": json.dumps(consent(request, ctx, "subscribe")),
                "u": ctx.user_id,
                "h": unsubscribe_hash,
            },
        )
    ).one()
    if row.needs_confirmation:
        await outbox.queue(
            session,
            "newsletter_confirm",
            to=email.strip(),
            user_id=None,
            context={"subscription_id": str(row.subscription_id)},
        )


async def confirm(
    session: AsyncSession, request: Request, ctx: RequestContext, token: str
) -> uuid.UUID | None:
    row = (
        await session.execute(
            text("select * from newsletter_confirm(:t, :now, cast(:c as jsonb))"),
            {
                "t": token_digest(token),
                "now": clock.now(),
                "c": json.dumps(consent(request, ctx, "confirm")),
            },
        )
    ).one_or_none()
    if row is None:
        return None
    await outbox.queue(
        session,
        "newsletter_welcome",
        to=row.email,
        user_id=None,
        context={"subscription_id": str(row.subscription_id)},
    )
    return uuid.UUID(str(row.subscription_id))


async def unsubscribe(session: AsyncSession, token: str) -> bool:
    value = await session.scalar(
        text("select newsletter_unsubscribe(:t, :now)"),
        {"t": token_digest(token), "now": clock.now()},
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
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[NewsletterSubscription], str | None]:
    query = _state(select(NewsletterSubscription), state)
    if tag:
        query = query.where(NewsletterSubscription.tags.contains([tag]))
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(NewsletterSubscription.email.ilike(f"%{escaped}%", escape="\\"))
    if cursor:
        at, ident = decode_cursor(cursor)
        query = query.where(
            or_(
                NewsletterSubscription.created_at < at,
                (NewsletterSubscription.created_at == at) & (NewsletterSubscription.id < ident),
            )
        )
    query = query.order_by(
        NewsletterSubscription.created_at.desc(), NewsletterSubscription.id.desc()
    ).limit(limit + 1)
    rows = (await session.scalars(query)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return rows, encode_cursor(last.created_at, last.id) if more and last else None


async def set_tags(
    session: AsyncSession, subscription_id: uuid.UUID, tags: list[str]
) -> NewsletterSubscription:
    result = await session.execute(
        update(NewsletterSubscription)
        .where(NewsletterSubscription.id == subscription_id)
        .values(tags=sorted(set(tags)))
        .returning(NewsletterSubscription.id)
    )
    if result.first() is None:
        raise NotFound("No such subscriber")
    found = await session.get(NewsletterSubscription, subscription_id, populate_existing=True)
    assert found is not None
    return found


async def counts(session: AsyncSession) -> dict[str, int]:
    result = {}
    for state in STATES:
        query = _state(select(func.count()).select_from(NewsletterSubscription), state)
        result[state] = int(await session.scalar(query) or 0)
    return result


async def import_csv(
    session: AsyncSession, request: Request, ctx: RequestContext, content: str, *, dry_run: bool
) -> dict[str, Any]:
    """Add subscribers from another list (columns: email, optional tags separated by ';').
    Addresses that unsubscribed or were erased are never re-added; nor are existing ones."""
    reader = csv.DictReader(io.StringIO(content))
    if not reader.fieldnames or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        raise ValueError("the CSV needs a header row with an 'email' column")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, raw in enumerate(reader, start=2):
        values = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        try:
            email = validate_email(values.get("email", ""), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            rows.append(
                {
                    "line": line,
                    "email": values.get("email"),
                    "outcome": "invalid",
                    "reason": str(exc),
                }
            )
            continue
        outcome = await _import_outcome(session, email, seen)
        seen.add(email.lower())
        rows.append({"line": line, "email": email, "outcome": outcome})
        if outcome == "created" and not dry_run:
            tags = [t.strip() for t in values.get("tags", "").split(";") if t.strip()]
            await session.execute(
                insert(NewsletterSubscription).values(
                    id=uuid.uuid4(),
                    email=email,
                    is_active=True,
                    confirmed_at=clock.now(),
                    tags=tags,
                    unsubscribe_token=token_digest(
                        signing.unsubscribe_token(request.app.state.secret_key, email)
                    ),
                    consent={
                        "history": [{**consent(request, ctx, "import"), "by": str(ctx.user_id)}]
                    },
                )
            )
    summary = dict.fromkeys(("created", "duplicate", "suppressed", "invalid"), 0)
    for item in rows:
        summary[item["outcome"]] += 1
    return {"dryRun": dry_run, "counts": summary, "rows": rows}


async def _import_outcome(session: AsyncSession, email: str, seen: set[str]) -> str:
    if email.lower() in seen:
        return "duplicate"
    if await session.scalar(text("select newsletter_is_suppressed(:e)"), {"e": email}):
        return "suppressed"
    exists = await session.scalar(
        select(func.count())
        .select_from(NewsletterSubscription)
        .where(func.lower(NewsletterSubscription.email) == email.lower())
    )
    return "duplicate" if exists else "created"
