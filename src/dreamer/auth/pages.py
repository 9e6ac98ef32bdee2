"""The pages the account mails link to: verify the address, set a new password, ask for a
reset link. Served by the API itself (see ``core.pages``) unless MAIL_LINKS_URL names the
website's own pages. A GET only shows the page; the button's POST does the work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.responses import HTMLResponse

from dreamer.auth import passwords, service
from dreamer.auth.schemas import EmailIn
from dreamer.core.config import Settings
from dreamer.core.errors import AppError, ValidationFailed
from dreamer.core.pages import (
    PAGE_RESPONSES,
    Form,
    Input,
    Page,
    error_page,
    incomplete_link,
    site_link,
    usable_token,
)
from dreamer.deps import (
    AnonymousAuthSession,
    AnonymousContext,
    AuthEnvDep,
    FormGuardDep,
    LimiterDep,
    SettingsDep,
)

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)

# unconstrained: a mangled link gets the page that says so, not a 422 problem
LinkToken = Annotated[str | None, Query()]
RULES = (
    f"At least {passwords.MIN_LENGTH} characters (a passphrase of a few words is best), "
    "not one of the 5,000 most common passwords, and not your e-mail address."
)


def _forgot_link(settings: Settings) -> tuple[str, str]:
    return f"{settings.links_url}/forgot-password", "Ask for a new reset link"


# -- verify the address ---------------------------------------------------------------------

VERIFY_TITLE = "Verify your e-mail address"


@router.get("/verify-email", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def verify_page(
    request: Request, guard: FormGuardDep, settings: SettingsDep, token: LinkToken = None
) -> HTMLResponse:
    """The verification link's page: a button, since mail scanners follow links."""
    token = usable_token(token)
    if token is None:
        return incomplete_link(VERIFY_TITLE, site_link(settings))
    form = Form("/verify-email", "Verify my address", hidden={"token": token})
    page = Page(VERIFY_TITLE, ("Press the button to confirm this address is yours.",), form=form)
    return guard.render(request, page)


@router.post("/verify-email", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def verify(
    request: Request, db: AnonymousAuthSession, guard: FormGuardDep, settings: SettingsDep
) -> HTMLResponse:
    """Verify the address with the link's token (once)."""
    try:
        fields = await guard.read(request)
        await service.verify_email(db, fields.get("token", ""))
    except AppError as exc:
        return error_page(exc, VERIFY_TITLE, site_link(settings))
    text = ("Thank you: your e-mail address is verified.",)
    return guard.render(request, Page("Address verified", text, link=site_link(settings)))


# -- set a new password ---------------------------------------------------------------------

RESET_TITLE = "Choose a new password"


def _reset_form(token: str, alert: str | None = None) -> Page:
    inputs = (
        Input(
            "password",
            "New password",
            type="password",
            autocomplete="new-password",
            attributes={"minlength": passwords.MIN_LENGTH, "maxlength": passwords.MAX_LENGTH},
            hint=RULES,
        ),
        Input(
            "password_confirm",
            "The new password again",
            type="password",
            autocomplete="new-password",
            attributes={"minlength": passwords.MIN_LENGTH, "maxlength": passwords.MAX_LENGTH},
        ),
    )
    form = Form("/reset-password", "Set the new password", hidden={"token": token}, inputs=inputs)
    return Page(RESET_TITLE, alert=alert, form=form)


@router.get("/reset-password", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def reset_page(
    request: Request, guard: FormGuardDep, settings: SettingsDep, token: LinkToken = None
) -> HTMLResponse:
    """The reset link's page: a form for the new password, with the rules."""
    token = usable_token(token)
    if token is None:
        return incomplete_link(RESET_TITLE, _forgot_link(settings))
    return guard.render(request, _reset_form(token))


@router.post("/reset-password", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def reset(
    request: Request,
    db: AnonymousAuthSession,
    env: AuthEnvDep,
    guard: FormGuardDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """Set the new password with the link's token (once); every session of the account ends."""
    try:
        fields = await guard.read(request)
        token, password = fields.get("token", ""), fields.get("password", "")
        if password != fields.get("password_confirm"):
            raise ValidationFailed("The two passwords are not the same")
        await service.confirm_password_reset(db, env, token, password)
    except ValidationFailed as exc:  # the form again, with the reason
        return guard.render(request, _reset_form(token, exc.detail), exc.status)
    except AppError as exc:
        return error_page(exc, RESET_TITLE, _forgot_link(settings))
    page = Page(
        "Password changed",
        ("Your password is changed and every earlier sign-in has ended. Sign in again with it.",),
        link=site_link(settings),
    )
    return guard.render(request, page)


# -- ask for a reset link (the "password changed" mail links here) --------------------------

FORGOT_TITLE = "Reset your password"


def _forgot_form(alert: str | None = None) -> Page:
    email = Input("email", "E-mail address", type="email", autocomplete="email")
    form = Form("/forgot-password", "Send me a reset link", inputs=(email,))
    text = ("We will mail a link to set a new password, valid for a limited time.",)
    return Page(FORGOT_TITLE, text, alert=alert, form=form)


@router.get("/forgot-password", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def forgot_page(request: Request, guard: FormGuardDep) -> HTMLResponse:
    """A form that mails a reset link (the same limits as `POST /auth/password-reset`)."""
    return guard.render(request, _forgot_form())


@router.post("/forgot-password", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def forgot(
    request: Request,
    db: AnonymousAuthSession,
    ctx: AnonymousContext,
    guard: FormGuardDep,
    settings: SettingsDep,
    limiter: LimiterDep,
) -> HTMLResponse:
    """Mail a reset link; the answer never reveals whether the address has an account."""
    try:
        fields = await guard.read(request)
        await limiter.hit("reset:ip", ctx.ip or "-", settings.rate_limit_reset_ip)
        try:
            email = EmailIn.model_validate({"email": fields.get("email", "")}).email
        except ValidationError:
            raise ValidationFailed("Enter a valid e-mail address") from None
        await limiter.hit("reset:account", email.lower(), settings.rate_limit_reset_account)
        await service.request_password_reset(db, email)
    except ValidationFailed as exc:
        return guard.render(request, _forgot_form(exc.detail), exc.status)
    except AppError as exc:
        return error_page(exc, FORGOT_TITLE, site_link(settings))
    page = Page("Check your inbox", (service.RESET_MESSAGE,), link=site_link(settings))
    return guard.render(request, page)
