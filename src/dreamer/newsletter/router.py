"""Newsletter: double opt-in subscription, one-click unsubscribe (RFC 8058), staff tools."""

from __future__ import annotations

import csv
import html
import io
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from dreamer.core.errors import BadRequest, NotFound, ValidationFailed
from dreamer.core.pagination import cursor_meta
from dreamer.core.responses import Envelope, JSONResponse, ok
from dreamer.deps import Context, DbSession, Staff
from dreamer.newsletter import service
from dreamer.newsletter.schemas import ConfirmIn, SubscribeIn, SubscriberOut, TagsIn

router = APIRouter(prefix="/newsletter", tags=["newsletter"])

PENDING = "Thanks! Please check your inbox to confirm your subscription."
Token = Annotated[str, Query(min_length=16, max_length=512)]


@router.post("/subscribe", status_code=202, response_model=Envelope[dict[str, str]])
async def subscribe(
    body: SubscribeIn, request: Request, db: DbSession, ctx: Context
) -> JSONResponse:
    """Ask for a confirmation mail (double opt-in). The answer is always the same: it never
    tells whether the address is subscribed already, and never downgrades a confirmed one."""
    await request.app.state.auth.limiter.hit(
        "newsletter:ip", ctx.ip or "-", request.app.state.settings.rate_limit_newsletter_ip
    )
    await service.subscribe(db, request, ctx, body.email, body.tags)
    return ok({"message": PENDING}, status=202)


@router.post("/confirm", response_model=Envelope[dict[str, str]])
async def confirm(body: ConfirmIn, request: Request, db: DbSession, ctx: Context) -> JSONResponse:
    """Confirm with the mailed token (single use, valid 7 days)."""
    if await service.confirm(db, request, ctx, body.token) is None:
        raise BadRequest("This confirmation link is invalid, used or expired")
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
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export(
    db: DbSession,
    ctx: Staff,
    status: Annotated[str | None, Query(pattern="^(active|pending|unsubscribed)$")] = None,
) -> Response:
    """Subscribers as CSV (email, state, tags, confirmed, unsubscribed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["email", "active", "tags", "confirmed_at", "unsubscribed_at"])
    cursor = None
    while True:
        rows, cursor = await service.page(
            db, state=status, tag=None, search=None, cursor=cursor, limit=100
        )
        for r in rows:
            writer.writerow(
                [
                    r.email,
                    r.is_active,
                    ";".join(map(str, r.tags)),
                    r.confirmed_at.isoformat() if r.confirmed_at else "",
                    r.unsubscribed_at.isoformat() if r.unsubscribed_at else "",
                ]
            )
        if cursor is None:
            break
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
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
    dry_run: Annotated[bool, Query(alias="dryRun")] = True,
) -> JSONResponse:
    """Import subscribers (CSV with `email`, optional `tags`); unsubscribed or erased addresses
    are reported as `suppressed` and never re-added."""
    content = (await request.body()).decode("utf-8-sig", errors="replace")
    try:
        report = await service.import_csv(db, request, ctx, content, dry_run=dry_run)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    return ok(report)
