"""The original website against the real server, in headless Chromium (Debian's, driven by
Playwright; no browser download): its auth fetch code and its contact form's axios post, from an
origin of their own (so CORS and the legacy `/api/*` → 308 → `/api/v1/*` redirect are real),
then a mailed verification link opened and its button pressed, and `/docs` with every other
host unreachable, and its Web Vitals post."""

from __future__ import annotations

import asyncio
import functools
import http.server
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from dreamer.core.config import Settings
from tests.factories import PASSWORD
from tests.harness import MailSink, run_dreamer_serve

CHROMIUM = Path("/usr/bin/chromium")
# FIELD_NOTES: without the networking flags Chromium floods the closed network with connections
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SITE = Path(__file__).parent / "site"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which("chromium") is None,
    reason="needs Debian's chromium (`make setup` installs it when run as root)",
)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def website() -> Iterator[str]:
    """The static test double of the website, on an origin of its own."""
    handler = functools.partial(_Quiet, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api(settings: Settings, website: str) -> Iterator[str]:
    """`dreamer serve` (two workers and the mail worker) allowing the website's origin."""
    assert settings.smtp_url
    with run_dreamer_serve(settings, SMTP_URL=settings.smtp_url, CORS_ORIGINS=website) as base:
        yield base


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _wait_for_mail(mail: MailSink, address: str, path: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            return mail.url(address, path)
        except AssertionError:
            await asyncio.sleep(0.1)
    return mail.url(address, path)


async def test_the_website_signs_up_logs_in_and_sends_the_contact_form(
    browser: object,
    api: str,
    website: str,
    owner_conn: asyncpg.Connection,
    mail: MailSink,
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(browser, Browser)
    context = await browser.new_context()
    page = await context.new_page()
    failures: list[str] = []
    page.on("requestfailed", lambda r: failures.append(f"{r.url}: {r.failure}"))
    await page.goto(f"{website}/index.html?api={api}")

    async def auth(mode: str, email: str, password: str) -> str:
        await page.evaluate("localStorage.clear()")
        await page.select_option("#mode", mode)
        await page.fill("#email", email)
        await page.fill("#password", password)
        await page.fill("#firstName", "Ada")
        await page.fill("#lastName", "Lovelace")
        await page.evaluate("document.getElementById('auth-result').textContent = ''")
        await page.click("#auth button")
        result = page.locator("#auth-result")
        await expect(result).not_to_have_text("", timeout=15_000)
        return await result.inner_text()

    # sign up: the token is stored where the website keeps it, and it works
    assert await auth("register", "ada@example.com", PASSWORD) == "Welcome!"
    token = await page.evaluate("localStorage.getItem('authToken')")
    assert isinstance(token, str) and token.count(".") == 2
    # a wrong password shows the API's own words, not "Authentication failed"
    shown = await auth("login", "ada@example.com", "not the password")
    assert shown != "Authentication failed" and "password" in shown.lower(), shown
    assert await page.evaluate("localStorage.getItem('authToken')") is None
    taken = await auth("register", "ada@example.com", PASSWORD)
    assert "already" in taken.lower(), taken
    assert await auth("login", "ada@example.com", PASSWORD) == "Welcome!"
    assert await page.evaluate("localStorage.getItem('authToken')")

    # the contact form's axios post
    await page.fill("#c-name", "Grace Hopper")
    await page.fill("#c-email", "grace@navy.example")
    await page.fill("#c-company", "US Navy")
    await page.fill("#c-message", "We would like an AI assistant for our support desk.")
    await page.click("#contact button")
    await expect(page.locator("#contact-result")).to_have_text(
        "Thank you! We will be in touch.", timeout=15_000
    )
    lead = await owner_conn.fetchrow(
        "select id, first_name, company from leads where email = 'grace@navy.example'"
    )
    assert lead is not None and (lead["first_name"], lead["company"]) == ("Grace", "US Navy")
    assert await owner_conn.fetchval(
        "select count(*) from lead_activities where lead_id = $1", lead["id"]
    )
    assert failures == []

    # its reportWebVitals post, cross-origin, through the legacy path and its 308
    status = await page.evaluate(
        """async (api) => (await fetch(api + '/api/analytics/web-vitals', {
            method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({metric: 'LCP', value: 1234.5, score: 'good',
                                  url: location.href, timestamp: Date.now(),
                                  userAgent: navigator.userAgent}),
        })).status""",
        api,
    )
    assert status == 202
    vital = await owner_conn.fetchrow(
        "select properties, browser from analytics_events where event_type = 'web_vital'"
    )
    # stored as a class, not the agent: a headless browser counts as automation
    assert vital is not None and vital["browser"] == "Bot", vital

    # the verification mail's link: the page, then the button
    link = await _wait_for_mail(mail, "ada@example.com", "/verify-email")
    assert link.startswith(f"{api}/verify-email?token=")
    verified = "select email_verified from users where email = 'ada@example.com'"
    await page.goto(link)
    assert await owner_conn.fetchval(verified) is False
    await page.get_by_role("button", name="Verify my address").click()
    await expect(page.get_by_role("heading")).to_have_text("Address verified")
    assert await owner_conn.fetchval(verified) is True
    await page.goto(link)  # a second time: the link is used up
    await page.get_by_role("button", name="Verify my address").click()
    await expect(page.get_by_role("alert")).to_contain_text("invalid, used or expired")
    await context.close()


async def test_docs_render_with_no_network(browser: object, api: str) -> None:
    from playwright.async_api import Browser, Route, expect

    assert isinstance(browser, Browser)
    context = await browser.new_context()
    elsewhere: list[str] = []

    async def only_the_api(route: Route) -> None:
        if route.request.url.startswith(api):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_the_api)
    page = await context.new_page()
    await page.goto(f"{api}/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "Dreamer API", timeout=20_000
    )
    await expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert elsewhere == []
    await context.close()
