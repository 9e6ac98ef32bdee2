"""The pages mailed links open (served by the API unless MAIL_LINKS_URL names the website's):
a GET changes nothing, the button's POST does, each link works once, and the forms refuse
what did not come from their own page."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest

from dreamer.core.config import Settings
from tests.factories import PASSWORD, make_account
from tests.harness import MailSink

Deliver = Callable[[], Awaitable[None]]
FIELD = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def _fields(page: httpx.Response) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in FIELD.findall(page.text)}


async def _open(client: httpx.AsyncClient, url: str) -> tuple[httpx.Response, dict[str, str]]:
    """Open a mailed link as a browser does (a fresh browser: no cookies yet)."""
    assert url.startswith("http://testserver/"), url  # the API's own page by default
    client.cookies.clear()
    page = await client.get(url)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    return page, _fields(page)


async def _press(
    client: httpx.AsyncClient, path: str, fields: dict[str, str], **extra: str
) -> httpx.Response:
    return await client.post(
        path, data={**fields, **extra}, headers={"Sec-Fetch-Site": "same-origin"}
    )


async def test_verification_happens_on_the_button_and_once(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    await client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.com", "password": PASSWORD, "firstName": "N", "lastName": "U"},
    )
    await deliver()
    page, fields = await _open(client, mail.url("new@example.com", "/verify-email"))
    assert "<button" in page.text and fields["token"] and fields["csrf"]
    verified = "select email_verified from users where email = 'new@example.com'"
    assert await owner_conn.fetchval(verified) is False  # a scanner's GET changes nothing
    done = await _press(client, "/verify-email", fields)
    assert done.status_code == 200 and "verified" in done.text
    assert await owner_conn.fetchval(verified) is True
    again = await _press(client, "/verify-email", fields)
    assert again.status_code == 400 and "invalid, used or expired" in again.text
    assert again.headers["content-type"].startswith("text/html")


async def test_the_reset_page_sets_a_new_password_once(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    account = await make_account(client, owner_conn, "forgetful@example.com")
    await client.post("/api/v1/auth/password-reset", json={"email": account.email})
    await deliver()
    page, fields = await _open(client, mail.url(account.email, "/reset-password"))
    assert 'type="password"' in page.text and "at least 8 characters" in page.text.lower()
    assert 'autocomplete="new-password"' in page.text and 'for="f-password"' in page.text
    mismatch = await _press(
        client, "/reset-password", fields, password="a new passphrase", password_confirm="other"
    )
    assert mismatch.status_code == 422 and "not the same" in mismatch.text
    weak = await _press(
        client,
        "/reset-password",
        _fields(mismatch),
        password="password",
        password_confirm="password",
    )
    assert weak.status_code == 422 and "most common passwords" in weak.text
    new = "correct horse battery staple"
    done = await _press(
        client, "/reset-password", _fields(weak), password=new, password_confirm=new
    )
    assert done.status_code == 200, done.text
    login = await client.post("/api/v1/auth/login", json={"email": account.email, "password": new})
    assert login.status_code == 200
    old_session = await client.get("/api/v1/users/profile", headers=account.auth)
    assert old_session.status_code == 401  # every earlier sign-in ended
    again = await _press(client, "/reset-password", fields, password=new, password_confirm=new)
    assert again.status_code == 400 and "/forgot-password" in again.text


async def test_the_forgot_password_page_mails_a_link(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    account = await make_account(client, owner_conn, "lost@example.com")
    page, fields = await _open(client, "http://testserver/forgot-password")
    assert 'type="email"' in page.text
    bad = await _press(client, "/forgot-password", fields, email="not an address")
    assert bad.status_code == 422
    for email in (account.email, "nobody@example.com"):  # the same answer either way
        sent = await _press(client, "/forgot-password", fields, email=email)
        assert sent.status_code == 200 and "If an account exists" in sent.text
    await deliver()
    assert mail.link(account.email, "/reset-password")
    assert mail.to("nobody@example.com") == []


async def test_the_newsletter_is_confirmed_on_the_button_once(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    await client.post("/api/v1/newsletter/subscribe", json={"email": "reader@example.com"})
    await deliver()
    _, fields = await _open(client, mail.url("reader@example.com", "/newsletter/confirm"))
    active = "select is_active from newsletter_subscriptions"
    assert await owner_conn.fetchval(active) is False
    done = await _press(client, "/newsletter/confirm", fields)
    assert done.status_code == 200 and "subscribed" in done.text
    assert await owner_conn.fetchval(active) is True
    again = await _press(client, "/newsletter/confirm", fields)
    assert again.status_code == 400


async def test_forms_refuse_what_did_not_come_from_their_page(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    await client.post("/api/v1/newsletter/subscribe", json={"email": "target@example.com"})
    await deliver()
    url = mail.url("target@example.com", "/newsletter/confirm")
    _, fields = await _open(client, url)
    token = fields["token"]
    refusals = {
        "another site's form": {"Sec-Fetch-Site": "cross-site"},
        "a sibling site's form": {"Sec-Fetch-Site": "same-site"},
        "another origin": {"Origin": "https://evil.example"},
    }
    for why, headers in refusals.items():
        response = await client.post("/newsletter/confirm", data=fields, headers=headers)
        assert response.status_code == 403, why
    wrong = await _press(client, "/newsletter/confirm", {"token": token, "csrf": "0" * 64})
    assert wrong.status_code == 403
    client.cookies.clear()  # a forged form: the token alone, no cookie of the page
    forged = await _press(client, "/newsletter/confirm", fields)
    assert forged.status_code == 403
    _, fields = await _open(client, url)
    as_json = await client.post("/newsletter/confirm", json=fields)
    assert as_json.status_code == 400
    assert await owner_conn.fetchval("select is_active from newsletter_subscriptions") is False
    # a signed-in visitor (a stale cookie session, even) is just a visitor here
    client.cookies.set("dreamer_at", "stale")
    done = await _press(client, "/newsletter/confirm", fields)
    assert done.status_code == 200


@pytest.mark.parametrize("path", ["/verify-email", "/reset-password", "/newsletter/confirm"])
async def test_pages_are_inert_and_escape_what_they_show(
    client: httpx.AsyncClient, path: str
) -> None:
    evil = '"><script>alert(1)</script>' + "x" * 16
    page = await client.get(path, params={"token": evil})
    assert page.status_code == 200
    assert "<script>" not in page.text and _fields(page)["token"] == evil
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "same-origin"  # the token never leaves the site
    assert page.headers["x-frame-options"] == "DENY"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    incomplete = await client.get(path, params={"token": "short"})
    assert incomplete.status_code == 400 and "incomplete" in incomplete.text
    missing = await client.get(path)
    assert missing.status_code == 400


async def test_mailed_links_can_point_to_the_websites_own_pages(
    client: httpx.AsyncClient, settings: Settings, mail: MailSink
) -> None:
    """The links are minted when the worker sends the mail, so it is the worker's setting."""
    from dreamer.worker import build_worker

    await client.post("/api/v1/newsletter/subscribe", json={"email": "site@example.com"})
    pages = settings.model_copy(update={"mail_links_url": "https://www.dreamer.example"})
    assert pages.database_worker_url
    worker = build_worker(pages, pages.database_worker_url)
    try:
        await worker.run(wait=False)
    finally:
        await worker.close()
    assert mail.url("site@example.com", "/newsletter/confirm").startswith(
        "https://www.dreamer.example/newsletter/confirm?token="
    )
