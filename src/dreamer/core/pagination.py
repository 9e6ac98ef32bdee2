"""The one way to page a list: opaque keyset cursors, and the ``meta`` a cursor list answers with.

A cursor is the position of the last row of a page — the values of the sort key, the row's id
last — as base64url JSON. Decoding checks the shape against the parsers the list gives (one per
key value), so a forged or stale cursor is a 400, never a 500. Only the service catalogue (a
short, ordered list) uses ``page``/``total``; every other list pages by cursor.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from dreamer.core.errors import BadRequest

T = TypeVar("T")
Parser = Callable[[Any], Any]

# The parsers of the most common position, (created_at, id).
BY_TIME: tuple[Parser, ...] = (dt.datetime.fromisoformat, uuid.UUID)


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def encode_cursor(*position: object) -> str:
    raw = json.dumps([_plain(v) for v in position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, parsers: Sequence[Parser] = BY_TIME) -> tuple[Any, ...]:
    """The position a cursor holds, each value parsed; 400 when it is not one of ours."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(parsers):
            raise ValueError("wrong shape")
        return tuple(parse(v) for parse, v in zip(parsers, values, strict=True))
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise BadRequest("Malformed cursor") from None


def split_page(
    rows: Sequence[T], limit: int, key: Callable[[T], tuple[object, ...]]
) -> tuple[Sequence[T], str | None]:
    """Rows fetched with ``limit + 1``: the page, and the cursor of the next one (or None)."""
    page = rows[:limit]
    more = len(rows) > limit and bool(page)
    return page, encode_cursor(*key(page[-1])) if more else None


def cursor_meta(limit: int, next_cursor: str | None) -> dict[str, object]:
    """``meta`` of a cursor-paginated list."""
    return {"limit": limit, "nextCursor": next_cursor, "hasMore": next_cursor is not None}
