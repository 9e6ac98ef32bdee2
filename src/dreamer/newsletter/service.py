"""Double opt-in subscriptions, one-click unsubscribe, suppression, and staff tools."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from dreamer.core import clock, signing
from dreamer.core.errors import NotFound
from dreamer.core.pagination import decode_cursor, split_page
from dreamer.core.security import token_digest
from dreamer.db.session import RequestContext
from dreamer.mail import outbox
from dreamer.models import NewsletterSubscription
from dreamer.newsletter import repository


def consent(request: Request, ctx: RequestContext, action: str) -> dict[str, Any]:
    """What the person agreed to, when, from where (kept with the subscription)."""
    return {
        "action": action,
        "at": clock.now().isoformat(),
        "ip": ctx.ip,
        "wording": request.app.state.settings.newsletter_consent_version,
        "userAgent": (ctx.user_agent or "")[:300] or None,
    }


def _unsubscribe_hash(request: Request, email: str) -> str:
    return token_digest(signing.unsubscribe_token(request.app.state.secret_key, email))


async def subscribe(
    session: AsyncSession, request: Request, ctx: RequestContext, email: str, tags: list[str]
) -> None:
    """Pending until confirmed; an active subscription stays as it is. The caller always gets
    the same answer."""
    row = await repository.subscribe(
        session,
        email=email,
        tags=tags,
        consent=consent(request, ctx, "subscribe"),
        user_id=ctx.user_id,
        unsubscribe_hash=_unsubscribe_hash(request, email),
    )
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
    row = await repository.confirm(
        session, token_digest(token), clock.now(), consent(request, ctx, "confirm")
    )
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
    return await repository.unsubscribe(session, token_digest(token), clock.now())


async def page(
    session: AsyncSession,
    *,
    state: str | None,
    tag: str | None,
    search: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[NewsletterSubscription], str | None]:
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.page(
        session, state=state, tag=tag, search=search, after=after, limit=limit + 1
    )
    return split_page(rows, limit, lambda r: (r.created_at, r.id))


async def set_tags(
    session: AsyncSession, subscription_id: uuid.UUID, tags: list[str]
) -> NewsletterSubscription:
    found = await repository.set_tags(session, subscription_id, sorted(set(tags)))
    if found is None:
        raise NotFound("No such subscriber")
    return found


async def counts(session: AsyncSession) -> dict[str, int]:
    return await repository.counts(session)


async def import_csv(
    session: AsyncSession, request: Request, ctx: RequestContext, content: str, *, dry_run: bool
) -> dict[str, Any]:
    """Add subscribers from another list (columns: email, optional tags separated by ';').
    Addresses that unsubscribed or were erased are never re-added; nor are existing ones."""
    reader = csv.DictReader(io.StringIO(content))
    if not reader.fieldnames or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        raise ValueError("the CSV needs a header row with an 'email' column")
    rows: list[dict[str, Any]] = []
    valid: list[tuple[int, str, list[str]]] = []
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
        tags = [t.strip() for t in values.get("tags", "").split(";") if t.strip()]
        valid.append((line, email, tags))
    emails = [email for _, email, _ in valid]
    suppressed = await repository.suppressed_among(session, emails)
    existing = await repository.existing_among(session, emails)
    for line, email, tags in valid:
        key = email.lower()
        outcome = (
            "suppressed" if key in suppressed else "duplicate" if key in existing else "created"
        )
        existing.add(key)  # a second row of the same address is a duplicate
        rows.append({"line": line, "email": email, "outcome": outcome})
        if outcome == "created" and not dry_run:
            record = {**consent(request, ctx, "import"), "by": str(ctx.user_id)}
            await repository.insert_confirmed(
                session,
                {
                    "email": email,
                    "is_active": True,
                    "confirmed_at": clock.now(),
                    "tags": tags,
                    "unsubscribe_token": _unsubscribe_hash(request, email),
                    "consent": {"history": [record]},
                },
            )
    rows.sort(key=lambda item: item["line"])
    summary = dict.fromkeys(("created", "duplicate", "suppressed", "invalid"), 0)
    for item in rows:
        summary[item["outcome"]] += 1
    return {"dryRun": dry_run, "counts": summary, "rows": rows}
