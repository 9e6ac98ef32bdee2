"""The application's clock. Tests freeze it; time-limited checks take it as a parameter."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Pin ``now()`` to ``at`` (``None`` unfreezes). For tests only."""
    global _frozen
    _frozen = at
