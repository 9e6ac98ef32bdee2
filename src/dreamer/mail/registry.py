"""Which mails exist, and who fills them in: each domain registers its templates.

A domain's ``mails.py`` registers one *context provider* per template with ``@provides``. At
send time the worker calls it with the outbox row: the provider reads what the mail needs *now*
(the booking as it is, the lead's details), mints any secret link itself (auth mints its own
tokens) and returns a ``MailContext`` — template variables plus headers and attachments — or
None when the mail is no longer needed (a verification mail for a verified address). The mail
package knows no domain; ``dreamer.worker`` imports every domain's ``mails`` module.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.core.config import Settings


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str
    content: str


@dataclass(frozen=True)
class MailContext:
    """What a provider adds to a mail: template variables, extra headers, attachments, and the
    secret link it made (logged in development, when mails go to files)."""

    variables: dict[str, object] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    link: str | None = None


class QueuedMail(Protocol):
    """The outbox row, as a provider sees it."""

    @property
    def template(self) -> str: ...
    @property
    def to_address(self) -> str: ...
    @property
    def user_id(self) -> uuid.UUID | None: ...
    @property
    def context(self) -> dict[str, object]: ...


Provider = Callable[[AsyncSession, Settings, QueuedMail], Awaitable[MailContext | None]]

_PROVIDERS: dict[str, Provider] = {}


def provides(*templates: str) -> Callable[[Provider], Provider]:
    """Register the decorated function as the context provider of ``templates``."""

    def register(provider: Provider) -> Provider:
        for template in templates:
            if template not in template_names():
                raise ValueError(f"no mail template files for {template!r}")
            if _PROVIDERS.get(template, provider) is not provider:
                raise ValueError(f"mail template {template!r} has a provider already")
            _PROVIDERS[template] = provider
        return provider

    return register


def provider_for(template: str) -> Provider:
    try:
        return _PROVIDERS[template]
    except KeyError:
        raise LookupError(f"no domain provides the mail {template!r}") from None


def registered() -> frozenset[str]:
    return frozenset(_PROVIDERS)


def template_names() -> frozenset[str]:
    """Every mail that has its text and HTML templates (``_``-prefixed files are partials)."""
    folder = resources.files("dreamer.mail") / "templates"
    names = {e.name.removesuffix(".txt") for e in folder.iterdir() if e.name.endswith(".txt")}
    return frozenset(n for n in names if not n.startswith("_"))
