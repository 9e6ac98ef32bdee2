"""Opaque keyset cursors: a (timestamp, id) position, base64url-encoded."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

from dreamer.core.errors import BadRequest


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
