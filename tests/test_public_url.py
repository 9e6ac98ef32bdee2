"""`PUBLIC_URL` follows the port `dreamer serve` runs on: the links in mails lead back to it."""

from __future__ import annotations

import time

import httpx

from dreamer.core.config import Settings
from tests.harness import MailSink, run_dreamer_serve


def test_mailed_links_follow_the_port_of_dreamer_serve(settings: Settings, mail: MailSink) -> None:
    assert settings.smtp_url
    with run_dreamer_serve(settings, SMTP_URL=settings.smtp_url, RUN_WORKER="true") as base:
        assert not base.endswith(":8000")
        response = httpx.post(
            f"{base}/api/v1/newsletter/subscribe", json={"email": "port@example.com"}
        )
        assert response.status_code == 202
        deadline = time.monotonic() + 30
        while not mail.to("port@example.com") and time.monotonic() < deadline:
            time.sleep(0.1)
        (message,) = mail.to("port@example.com")
        assert message["List-Unsubscribe"].startswith(f"<{base}/api/v1/newsletter/unsubscribe?")
        link = mail.url("port@example.com", "/newsletter/confirm")
        assert link.startswith(f"{base}/newsletter/confirm?token=")
        page = httpx.get(link)  # and the link opens this server's own page
        assert page.status_code == 200 and "Yes, subscribe me" in page.text
