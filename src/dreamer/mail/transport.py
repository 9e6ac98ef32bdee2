"""Delivery: SMTP when SMTP_URL is set, else ``.eml`` files under DREAMER_HOME/mail/."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib

log = logging.getLogger("dreamer.mail")


class SmtpTransport:
    """``smtp://[user:pass@]host[:port]`` (STARTTLS when offered), or ``smtps://`` (TLS)."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:port")
        self.host = parts.hostname
        self.tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        # Flattened with the message's own policy: aiosmtplib's would fold long headers (the
        # List-Unsubscribe URL) into encoded-words.
        await aiosmtplib.send(
            message.as_bytes(),
            sender=parseaddr(str(message["From"]))[1],
            recipients=[parseaddr(str(message["To"]))[1]],
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.tls,
            start_tls=None if not self.tls else False,
            timeout=self.timeout,
        )


class FileTransport:
    """For development: every mail becomes a file a developer can open."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, message)

    def _write(self, message: EmailMessage) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / f"{uuid.uuid4().hex}.eml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
        log.info("mail written to %s: %s", path, message["Subject"])


Transport = SmtpTransport | FileTransport
