"""The page the newsletter's confirmation mail links to (double opt-in): a confirm button, since
mail scanners follow links. See ``core.pages``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from dreamer.core.errors import AppError, InvalidLink
from dreamer.core.pages import (
    PAGE_RESPONSES,
    Form,
    Page,
    error_page,
    incomplete_link,
    site_link,
    usable_token,
)
from dreamer.deps import (
    AnonymousContext,
    AnonymousSession,
    FormGuardDep,
    SettingsDep,
    SigningKeyDep,
)
from dreamer.newsletter import service

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)

TITLE = "Confirm your subscription"
INVALID = "This confirmation link is invalid, used or expired; subscribe again on the website."


@router.get("/newsletter/confirm", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def confirm_page(
    request: Request,
    guard: FormGuardDep,
    settings: SettingsDep,
    token: Annotated[str | None, Query()] = None,  # any length: usable_token() judges
) -> HTMLResponse:
    """The confirmation link's page."""
    site = site_link(settings)
    token = usable_token(token)
    if token is None:
        return incomplete_link(TITLE, site)
    form = Form("/newsletter/confirm", "Yes, subscribe me", hidden={"token": token})
    text = ("Press the button to receive the Dreamer AI Solutions newsletter at this address.",)
    return guard.render(request, Page(TITLE, text, form=form))


@router.post("/newsletter/confirm", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def confirm(
    request: Request,
    db: AnonymousSession,
    ctx: AnonymousContext,
    guard: FormGuardDep,
    settings: SettingsDep,
    key: SigningKeyDep,
) -> HTMLResponse:
    """Confirm the subscription with the link's token (once)."""
    site = site_link(settings)
    try:
        fields = await guard.read(request)
        env = service.Env.of(settings, key)
        if await service.confirm(db, env, ctx, fields.get("token", "")) is None:
            raise InvalidLink(INVALID)
    except AppError as exc:
        return error_page(exc, TITLE, site)
    text = ("Thank you: you are subscribed. Every newsletter has a one-click unsubscribe link.",)
    return guard.render(request, Page("Subscription confirmed", text, link=site))
