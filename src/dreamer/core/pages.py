"""Small server-rendered pages (where the links in mails land) and the CSRF guard of their forms.

A mailed link only ever *shows* a page: mail scanners and link previews follow every GET, so
the change (verifying an address, setting a password, confirming a subscription) happens on
the button's POST. The forms are guarded by a signed double-submit cookie: the page sets a
random `dreamer_form` cookie (HttpOnly, SameSite=Strict, so no other site's form sends it) and
puts its HMAC in a hidden field; a POST needs both to match, and a request a browser marks as
coming from another site (`Sec-Fetch-Site`, `Origin`) is refused before that. The pages load
nothing from anywhere (a strict Content-Security-Policy), are never cached, and send no
referrer off the site, since their address carries the link's token.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse

from dreamer.core.config import Settings
from dreamer.core.errors import AppError, BadRequest, Forbidden, InvalidLink

FORM_COOKIE = "dreamer_form"
FORM_FIELD = "csrf"
FORM_COOKIE_MAX_AGE = 24 * 3600
MAX_FORM_FIELDS = 20
FORM_MEDIA = "application/x-www-form-urlencoded"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
STYLE = (
    "body{font:1.05rem/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
    "color:#1a1a1a}label{display:block;margin:1rem 0 .25rem;font-weight:600}"
    "input{font:inherit;width:100%;padding:.5rem;box-sizing:border-box}"
    "button{font:inherit;margin-top:1.25rem;padding:.6rem 1.2rem;cursor:pointer}"
    ".hint{color:#555;font-size:.95rem}[role=alert]{color:#a00000;font-weight:600}"
    ":focus-visible{outline:3px solid #1a56db;outline-offset:2px}"
)
# What the OpenAPI document says a page answers (HTML for people, never problem JSON).
HTML_CONTENT = {"text/html": {"schema": {"type": "string"}}}
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": HTML_CONTENT}
    for status, description in (
        (400, "The link is invalid, used or expired, or the form is malformed"),
        (403, "The form did not come from this page (CSRF guard)"),
        (422, "The input breaks a rule; the form is shown again with the reason"),
        (429, "Too many attempts; see `Retry-After`"),
    )
}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class Input:
    name: str
    label: str
    type: str = "text"
    autocomplete: str | None = None
    attributes: Mapping[str, str | int] = field(default_factory=dict)
    hint: str | None = None


@dataclass(frozen=True)
class Form:
    """A POST form to ``action`` (this site), with hidden fields, inputs and one button."""

    action: str
    button: str
    hidden: Mapping[str, str] = field(default_factory=dict)
    inputs: Sequence[Input] = ()

    def html(self, guard_field: str) -> str:
        parts = [f'<form method="post" action="{esc(self.action)}">']
        for name, value in {**self.hidden, FORM_FIELD: guard_field}.items():
            parts.append(f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">')
        for item in self.inputs:
            ident = f"f-{item.name}"
            attrs = "".join(f' {esc(k)}="{esc(v)}"' for k, v in item.attributes.items())
            if item.autocomplete:
                attrs += f' autocomplete="{esc(item.autocomplete)}"'
            if item.hint:
                attrs += f' aria-describedby="{ident}-hint"'
            parts.append(f'<label for="{ident}">{esc(item.label)}</label>')
            parts.append(
                f'<input id="{ident}" name="{esc(item.name)}" type="{esc(item.type)}" '
                f"required{attrs}>"
            )
            if item.hint:
                parts.append(f'<p class="hint" id="{ident}-hint">{esc(item.hint)}</p>')
        parts.append(f'<button type="submit">{esc(self.button)}</button></form>')
        return "".join(parts)


@dataclass(frozen=True)
class Page:
    title: str
    paragraphs: Sequence[str] = ()
    alert: str | None = None
    form: Form | None = None
    link: tuple[str, str] | None = None  # (href, text)


class FormGuard:
    """The signed double-submit cookie of the pages' forms."""

    def __init__(self, secret: str, *, secure: bool, public_url: str) -> None:
        self._key = hashlib.sha256(f"dreamer-form-guard:{secret}".encode()).digest()
        self.secure = secure
        self.public_origin = _origin(public_url)

    def _mac(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()

    def render(self, request: Request, page: Page, status: int = 200) -> HTMLResponse:
        """The page; its form (if any) carries the guard, and the cookie is set or renewed."""
        nonce = request.cookies.get(FORM_COOKIE, "")
        if not 20 <= len(nonce) <= 100:
            nonce = secrets.token_urlsafe(24)
        response = render(page, status, guard_field=self._mac(nonce))
        if page.form is not None:
            response.set_cookie(
                FORM_COOKIE,
                nonce,
                max_age=FORM_COOKIE_MAX_AGE,
                httponly=True,
                secure=self.secure,
                samesite="strict",
                path="/",
            )
        return response

    async def read(self, request: Request) -> dict[str, str]:
        """The fields of a form POSTed from one of these pages; 403 for anything else."""
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            raise Forbidden("This form must be sent from its own page")
        origin = request.headers.get("origin")
        own = {_origin(str(request.base_url)), self.public_origin}
        if origin is not None and origin != "null" and origin not in own:
            raise Forbidden("This form must be sent from its own page")
        nonce = request.cookies.get(FORM_COOKIE, "")
        if not nonce:
            raise Forbidden("This form has expired or did not come from its page; reload it")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != FORM_MEDIA:
            raise BadRequest(f"Send the form as {FORM_MEDIA}")
        try:
            fields = dict(
                parse_qsl(
                    (await request.body()).decode("utf-8"),
                    keep_blank_values=True,
                    strict_parsing=False,
                    max_num_fields=MAX_FORM_FIELDS,
                )
            )
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("The form could not be read") from None
        sent = fields.pop(FORM_FIELD, "")
        if not hmac.compare_digest(self._mac(nonce), sent):
            raise Forbidden("This form has expired or did not come from its page; reload it")
        return fields


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def render(page: Page, status: int = 200, *, guard_field: str = "") -> HTMLResponse:
    body = [f"<h1>{esc(page.title)}</h1>"]
    if page.alert:
        body.append(f'<p role="alert">{esc(page.alert)}</p>')
    body.extend(f"<p>{esc(text)}</p>" for text in page.paragraphs)
    if page.form is not None:
        body.append(page.form.html(guard_field))
    if page.link is not None:
        body.append(f'<p><a href="{esc(page.link[0])}">{esc(page.link[1])}</a></p>')
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{esc(page.title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=HEADERS)


def site_link(settings: Settings) -> tuple[str, str]:
    """The way back to the website, offered on every page."""
    return settings.frontend_url, "Go to the website"


def usable_token(token: str | None) -> str | None:
    """The token of a link as it arrived, or None when it cannot be one (cut off by a mail
    client, say): the page then says so instead of offering a button that must fail."""
    return token if token is not None and 16 <= len(token) <= 512 else None


def incomplete_link(title: str, link: tuple[str, str] | None = None) -> HTMLResponse:
    detail = "This link is incomplete. Open it again from the mail, or ask for a new one."
    return error_page(InvalidLink(detail), title, link)


def error_page(exc: AppError, title: str, link: tuple[str, str] | None = None) -> HTMLResponse:
    """An error as a page: the problem's status, detail and headers (``Retry-After``)."""
    response = render(Page(title, alert=exc.detail, link=link), exc.status)
    for name, value in exc.headers.items():
        if name.lower() != "www-authenticate":
            response.headers[name] = value
    return response
