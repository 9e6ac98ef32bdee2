"""Connection URL helpers: the outside world speaks libpq URLs, SQLAlchemy wants a driver."""

from __future__ import annotations

import re

_SCHEME = re.compile(r"^postgres(?:ql)?(?:\+\w+)?://")


def async_url(url: str) -> str:
    """``postgresql://…`` → ``postgresql+asyncpg://…`` (SQLAlchemy's asyncpg dialect)."""
    if not _SCHEME.match(url):
        raise ValueError("database URLs must start with postgresql://")
    return _SCHEME.sub("postgresql+asyncpg://", url, count=1)


def plain_url(url: str) -> str:
    """The libpq/asyncpg form without a SQLAlchemy driver suffix."""
    return _SCHEME.sub("postgresql://", url, count=1)


def redact(url: str) -> str:
    """The URL with its password hidden, for logs and messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)
