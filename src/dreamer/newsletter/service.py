"""Double opt-in subscriptions, one-click unsubscribe, suppression, and staff tools."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.core import clock, csvio, signing
from dreamer.core.config import Settings
from dreamer.core.emails import normalise_email
from dreamer.core.errors import NotFound, ValidationFailed
from dreamer.core.pagination import decode_cursor, split_page
from dreamer.core.security import token_digest
from dreamer.db.repository import Position, export_rows
from dreamer.db.session import Database, RequestContext
from dreamer.mail import outbox
from dreamer.models import NewsletterSubscription
from dreamer.newsletter import repository
from dreamer.newsletter.schemas import SubscribeIn


@dataclass(frozen=True)
class Env:
    """What the newsletter needs beyond the transaction."""

    consent_version: str
    signing_key: str

    @classmethod
    def of(cls, settings: Settings, signing_key: str) -> Env:
        return cls(settings.newsletter_consent_version, signing_key)

    def consent(self, ctx: RequestContext, action: str) -> dict[str, Any]:
        """What the person agreed to, when, from where (kept with the subscription)."""
        return {
            "action": action,
            "at": clock.now().isoformat(),
            "ip": ctx.ip,
            "wording": self.consent_version,
            "userAgent": (ctx.user_agent or "")[:300] or None,
        }

    def unsubscribe_hash(self, email: str) -> str:
        return token_digest(signing.unsubscribe_token(self.signing_key, email))


async def subscribe(
    session: AsyncSession, env: Env, ctx: RequestContext, signup: SubscribeIn
) -> None:
    """Pending until confirmed; an active subscription stays as it is. The caller always gets
    the same answer."""
    row = await repository.subscribe(
        session,
        email=signup.email,
        tags=signup.tags,
        consent=env.consent(ctx, "subscribe"),
        user_id=ctx.user_id,
        unsubscribe_hash=env.unsubscribe_hash(signup.email),
    )
    if row.needs_confirmation:
        await outbox.queue(session, "newsletter_confirm", row.subscription_id)


async def confirm(
    session: AsyncSession, env: Env, ctx: RequestContext, token: str
) -> uuid.UUID | None:
    row = await repository.confirm(
        session, token_digest(token), clock.now(), env.consent(ctx, "confirm")
    )
    if row is None:
        return None
    await outbox.queue(session, "newsletter_welcome", row.subscription_id)
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


EXPORT_COLUMNS = ("email", "active", "tags", "confirmed_at", "unsubscribed_at")
IMPORT_OUTCOMES = ("created", "duplicate", "suppressed", "invalid")


def _cells(row: NewsletterSubscription) -> list[object]:
    return [
        row.email,
        row.is_active,
        ";".join(map(str, row.tags)),
        row.confirmed_at.isoformat() if row.confirmed_at else "",
        row.unsubscribed_at.isoformat() if row.unsubscribed_at else "",
    ]


async def export_csv(
    session: AsyncSession, database: Database, ctx: RequestContext, state: str | None
) -> AsyncIterator[str]:
    """Subscribers (newest first) as CSV lines; tags come from the public, so cells that a
    spreadsheet would evaluate are neutralised."""

    async def fetch(
        s: AsyncSession, after: Position | None, n: int
    ) -> Sequence[NewsletterSubscription]:
        return await repository.page(s, state=state, tag=None, search=None, after=after, limit=n)

    rows = await export_rows(session, database, ctx, fetch, lambda r: (r.created_at, r.id))
    return csvio.stream(EXPORT_COLUMNS, (_cells(row) async for row in rows))


async def import_csv(
    session: AsyncSession, env: Env, ctx: RequestContext, content: bytes, *, dry_run: bool
) -> csvio.ImportReport:
    """Add subscribers from another list (columns: email, optional tags separated by ';').
    Addresses that unsubscribed or were erased are never re-added; nor are existing ones."""
    try:
        rows = csvio.read(content, required=("email",))
    except csvio.CsvError as exc:
        raise ValidationFailed(str(exc)) from None
    report = csvio.ImportReport(dry_run, IMPORT_OUTCOMES)
    valid: list[tuple[int, str, list[str]]] = []
    for row in rows:
        try:
            email = normalise_email(row.get("email") or "")
        except ValueError as exc:
            report.add(row.line, row.get("email"), "invalid", str(exc))
            continue
        tags = [t.strip() for t in (row.get("tags") or "").split(";") if t.strip()]
        valid.append((row.line, email, tags))
    emails = [email for _, email, _ in valid]
    suppressed = await repository.suppressed_among(session, emails)
    existing = await repository.existing_among(session, emails)
    created: list[dict[str, Any]] = []
    for line, email, tags in valid:
        key = email.lower()
        outcome = (
            "suppressed" if key in suppressed else "duplicate" if key in existing else "created"
        )
        existing.add(key)  # a second row of the same address is a duplicate
        report.add(line, email, outcome)
        if outcome == "created" and not dry_run:
            record = {**env.consent(ctx, "import"), "by": str(ctx.user_id)}
            created.append(
                {
                    "email": email,
                    "is_active": True,
                    "confirmed_at": clock.now(),
                    "tags": tags,
                    "unsubscribe_token": env.unsubscribe_hash(email),
                    "consent": {"history": [record]},
                }
            )
    await repository.insert_confirmed(session, created)  # in batches, in this transaction
    return report
