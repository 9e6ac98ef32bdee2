"""Mails from templates: a plain-text part (first line = subject) and an HTML part."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from dreamer.core import clock
from dreamer.mail.registry import Attachment, MailContext

MAIL_POLICY = policy.SMTP.clone(max_line_length=998)

_env = Environment(
    loader=PackageLoader("dreamer.mail", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class MailParts:
    """A rendered mail before addressing."""

    subject: str
    text: str
    html: str
    headers: dict[str, str]
    attachments: tuple[Attachment, ...]


def render(template: str, filled: MailContext) -> MailParts:
    text = _env.get_template(f"{template}.txt").render(**filled.variables)
    subject, _, body = text.partition("\n")
    html = _env.get_template(f"{template}.html").render(subject=subject, **filled.variables)
    return MailParts(
        subject.strip(), body.lstrip("\n"), html, dict(filled.headers), filled.attachments
    )


def compose(parts: MailParts, *, sender: str, to: str) -> EmailMessage:
    """The RFC 5322 message: From, To, Subject, Date and Message-ID, then the parts."""
    # SMTP line endings, and header lines up to RFC 5322's 998 characters: the default policy
    # would fold a long List-Unsubscribe URL into encoded-words that mail clients cannot use.
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = parts.subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(clock.now())
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in parts.headers.items():
        message[name] = value
    message.set_content(parts.text)
    message.add_alternative(parts.html, subtype="html")
    for attachment in parts.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        params = {}
        if attachment.mime_type == "text/calendar":
            params["method"] = "CANCEL" if "METHOD:CANCEL" in attachment.content else "REQUEST"
        message.add_attachment(
            attachment.content.encode(),
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )
    return message
