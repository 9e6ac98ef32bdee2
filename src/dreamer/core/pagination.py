"""Opaque keyset cursors: a (timestamp, id) position, base64url-encoded."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from dreamer.core.errors import BadRequest

T = TypeVar("T")


def encode_cursor(at: dt.datetime, ident: uuid.UUID) -> str:
    raw = f"{at.isoformat()}|{ident}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, ident = raw.partition("|")
        return dt.datetime.fromisoformat(at), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Malformed cursor") from None


def split_page(
    rows: Sequence[T], limit: int, key: Callable[[T], tuple[dt.datetime, uuid.UUID]]
) -> tuple[Sequence[T], str | None]:
    """Rows fetched with ``limit + 1``: the page, and the cursor of the next one (or None)."""
    page = rows[:limit]
    more = len(rows) > limit and bool(page)
    return page, encode_cursor(*key(page[-1])) if more else None


def cursor_meta(limit: int, next_cursor: str | None) -> dict[str, object]:
    """``meta`` of a cursor-paginated list."""
    return {"limit": limit, "nextCursor": next_cursor, "hasMore": next_cursor is not None}
