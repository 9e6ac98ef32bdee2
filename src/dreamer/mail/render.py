"""Mails from templates: a plain-text part (first line = subject) and an HTML part."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

MAIL_POLICY = policy.SMTP.clone(max_line_length=998)

_env = Environment(
    loader=PackageLoader("dreamer.mail", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def render(
    template: str,
    *,
    sender: str,
    to: str,
    context: dict[str, Any],
    attachments: list[tuple[str, str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """``attachments``: (filename, MIME type, text content), e.g. an iCalendar file."""
    text = _env.get_template(f"{template}.txt").render(**context)
    subject, _, body = text.partition("\n")
    html = _env.get_template(f"{template}.html").render(subject=subject, **context)
    # SMTP line endings, and header lines up to RFC 5322's 998 characters: the default policy
    # would fold a long List-Unsubscribe URL into encoded-words that mail clients cannot use.
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = subject.strip()
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = make_msgid(domain="dreamer.local")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body.lstrip("\n"))
    message.add_alternative(html, subtype="html")
    for filename, mime, content in attachments or []:
        maintype, _, subtype = mime.partition("/")
        params = {"method": "CANCEL" if "METHOD:CANCEL" in content else "REQUEST"}
        message.add_attachment(
            content.encode(),
            maintype=maintype,
            subtype=subtype,
            filename=filename,
            params=params if mime == "text/calendar" else {},
        )
    return message
