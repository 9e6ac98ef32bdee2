"""Newsletter: double opt-in subscription, one-click unsubscribe (RFC 8058), staff tools."""

from __future__ import annotations

import html
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse, StreamingResponse

from dreamer.core import csvio
from dreamer.core.errors import InvalidLink, NotFound
from dreamer.core.pagination import cursor_meta
from dreamer.core.responses import Envelope, JSONResponse, ok
from dreamer.deps import (
    Context,
    DatabaseDep,
    DbSession,
    SettingsDep,
    SigningKeyDep,
    Staff,
    rate_limit,
)
from dreamer.newsletter import service
from dreamer.newsletter.schemas import ConfirmIn, SubscribeIn, SubscriberOut, TagsIn

router = APIRouter(prefix="/newsletter", tags=["newsletter"])

PENDING = "Thanks! Please check your inbox to confirm your subscription."
Token = Annotated[str, Query(min_length=16, max_length=512)]


async def _env(settings: SettingsDep, key: SigningKeyDep) -> service.Env:
    return service.Env.of(settings, key)


Env = Annotated[service.Env, Depends(_env)]


@router.post(
    "/subscribe",
    status_code=202,
    response_model=Envelope[dict[str, str]],
    dependencies=[rate_limit("newsletter:ip", "rate_limit_newsletter_ip", body=SubscribeIn)],
)
async def subscribe(body: SubscribeIn, db: DbSession, ctx: Context, env: Env) -> JSONResponse:
    """Ask for a confirmation mail (double opt-in). The answer is always the same: it never
    tells whether the address is subscribed already, and never downgrades a confirmed one."""
    await service.subscribe(db, env, ctx, body)
    return ok({"message": PENDING}, status=202)


@router.post("/confirm", response_model=Envelope[dict[str, str]])
async def confirm(body: ConfirmIn, db: DbSession, ctx: Context, env: Env) -> JSONResponse:
    """Confirm with the mailed token (single use, valid 7 days)."""
    if await service.confirm(db, env, ctx, body.token) is None:
        raise InvalidLink("This confirmation link is invalid, used or expired")
    return ok({"message": "Subscription confirmed"})


@router.post("/unsubscribe", response_model=Envelope[dict[str, str]])
async def unsubscribe(token: Token, db: DbSession) -> JSONResponse:
    """One-click unsubscribe (RFC 8058): works without a session, with no body or the form
    body `List-Unsubscribe=One-Click`, and as often as it is sent."""
    if not await service.unsubscribe(db, token):
        raise NotFound("Unknown unsubscribe link")
    return ok({"message": "You are unsubscribed and will receive no more newsletters"})


@router.get("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_page(token: Token) -> HTMLResponse:
    """A confirm step for people who open the link: mail scanners follow GET links, so a GET
    never unsubscribes."""
    action = f"?token={html.escape(token, quote=True)}"
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>Unsubscribe</title></head><body style='font-family:sans-serif;max-width:30em;"
        "margin:3em auto'><h1>Unsubscribe from the newsletter?</h1>"
        f"<form method=post action='{action}'>"
        "<input type=hidden name=List-Unsubscribe value=One-Click>"
        "<button type=submit>Unsubscribe</button></form></body></html>"
    )


@router.get("/subscribers", response_model=Envelope[list[SubscriberOut]])
async def subscribers(
    db: DbSession,
    ctx: Staff,
    status: Annotated[str | None, Query(pattern="^(active|pending|unsubscribed)$")] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    """Subscribers, newest first, by state, tag or address."""
    rows, next_cursor = await service.page(
        db, state=status, tag=tag, search=q, cursor=cursor, limit=limit
    )
    return ok(
        [SubscriberOut.model_validate(r).model_dump(mode="json") for r in rows],
        cursor_meta(limit, next_cursor),
    )


@router.get(
    "/subscribers/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export(
    db: DbSession,
    database: DatabaseDep,
    ctx: Staff,
    status: Annotated[str | None, Query(pattern="^(active|pending|unsubscribed)$")] = None,
) -> StreamingResponse:
    """Subscribers as CSV (email, state, tags, confirmed, unsubscribed), streamed; cells that a
    spreadsheet would evaluate as formulas are neutralised."""
    lines = await service.export_csv(db, database, ctx, status)
    return StreamingResponse(
        lines, media_type=csvio.MEDIA_TYPE, headers=csvio.content_disposition("subscribers.csv")
    )


@router.patch("/subscribers/{subscription_id}", response_model=Envelope[SubscriberOut])
async def tag_subscriber(
    subscription_id: uuid.UUID, body: TagsIn, db: DbSession, ctx: Staff
) -> JSONResponse:
    """Replace a subscriber's tags."""
    found = await service.set_tags(db, subscription_id, body.tags)
    return ok(SubscriberOut.model_validate(found).model_dump(mode="json"))


@router.get("/stats", response_model=Envelope[dict[str, int]])
async def stats(db: DbSession, ctx: Staff) -> JSONResponse:
    """How many subscribers are active, pending and unsubscribed."""
    return ok(await service.counts(db))


@router.post("/import", response_model=Envelope[dict[str, object]])
async def import_subscribers(
    request: Request,
    db: DbSession,
    ctx: Staff,
    env: Env,
    dry_run: Annotated[bool, Query(alias="dryRun")] = True,
) -> JSONResponse:
    """Import subscribers (CSV with `email`, optional `tags`); unsubscribed or erased addresses
    are reported as `suppressed` and never re-added."""
    report = await service.import_csv(db, env, ctx, await request.body(), dry_run=dry_run)
    return ok(report.as_dict())
