"""Every mail template has exactly one provider, registered by its domain."""

from __future__ import annotations

import pytest

from dreamer.mail import registry
from dreamer.mail.render import compose, render
from dreamer.worker import register_mails


def test_every_template_is_provided_by_a_domain() -> None:
    register_mails()
    assert registry.registered() == registry.template_names()
    assert "verify_email" in registry.registered()


def test_a_template_cannot_get_a_second_provider_or_be_unknown() -> None:
    register_mails()

    async def other(*_args: object) -> None:
        return None

    with pytest.raises(ValueError, match="has a provider already"):
        registry.provides("lead_new")(other)
    with pytest.raises(ValueError, match="no mail template files"):
        registry.provides("no_such_mail")(other)
    with pytest.raises(LookupError):
        registry.provider_for("no_such_mail")


def test_every_mail_has_date_and_message_id_and_typed_parts() -> None:
    attachment = registry.Attachment("a.ics", "text/calendar", "BEGIN:VCALENDAR\r\nMETHOD:CANCEL")
    filled = registry.MailContext(
        {"reset_link": "http://x/forgot-password", "first_name": "Ada"},
        headers={"X-Test": "1"},
        attachments=(attachment,),
    )
    parts = render("password_changed", filled)
    assert parts.subject and parts.text and "<html" in parts.html.lower()
    message = compose(parts, sender="Dreamer <no-reply@dreamer.example>", to="ada@example.com")
    assert message["Date"] and message["Message-ID"].endswith("@dreamer.example>")
    assert message["X-Test"] == "1"
    calendar = next(p for p in message.iter_attachments())
    assert calendar.get_param("method") == "CANCEL"
