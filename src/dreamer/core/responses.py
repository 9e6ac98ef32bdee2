"""The public response contract: ``{"success": true, "data": …, "meta": {…}}`` in camelCase."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from starlette.requests import Request
from starlette.responses import JSONResponse as StarletteJSONResponse
from starlette.responses import Response

T = TypeVar("T")


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        # orjson stops at 64-bit integers; JSON stored by clients (preferences, metadata)
        # may hold bigger ones. The standard library writes any size.
        return json.dumps(value, default=_plain, ensure_ascii=False).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return orjson.loads(orjson.dumps(value))


class ApiModel(BaseModel):
    """Base of every API schema: camelCase on the wire, snake_case accepted on input."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        from_attributes=True,
    )


class InputModel(ApiModel):
    """Request bodies: unknown fields are refused, so nothing can be mass-assigned."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=False)


class PageMeta(ApiModel):
    page: int
    limit: int
    total: int
    total_pages: int

    @classmethod
    def of(cls, page: int, limit: int, total: int) -> PageMeta:
        return cls(page=page, limit=limit, total=total, total_pages=math.ceil(total / limit))


class Envelope(ApiModel, Generic[T]):
    """Documents the success body in OpenAPI; ``ok()`` builds it without re-validation."""

    success: bool = True
    data: T
    meta: dict[str, Any] = Field(default_factory=dict)


class TokenEnvelope(Envelope[T], Generic[T]):
    """The envelope of register, login and refresh. ``token`` repeats ``data.accessToken`` at the
    top level: the original website reads ``data.token`` (a compatibility field)."""

    token: str


class JSONResponse(StarletteJSONResponse):
    """JSON through orjson. A subclass of Starlette's, so FastAPI documents the route's
    ``response_model`` as the body (with a plain ``Response`` it documents a string)."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def ok(
    data: Any,
    meta: BaseModel | dict[str, Any] | None = None,
    status: int = 200,
    **top: Any,
) -> JSONResponse:
    """The success envelope; ``top`` adds top-level compatibility fields (``token``)."""
    if isinstance(meta, BaseModel):
        meta = meta.model_dump(mode="json", by_alias=True)
    body = {"success": True, "data": data, "meta": meta or {}, **top}
    return JSONResponse(body, status_code=status)


# -- validators and conditional requests (RFC 9110 §8.8, §13) -------------------------------


def etag_of(body: bytes) -> bytes:
    """A strong entity tag of exactly these bytes."""
    return b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


def http_date(moment: datetime) -> bytes:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True).encode()


def fresh(headers: Sequence[tuple[bytes, bytes]], etag: bytes, last_modified: bytes | None) -> bool:
    """Whether a GET carrying ``headers`` may be answered 304: ``If-None-Match`` names the
    tag (or ``*``); without it, ``If-Modified-Since`` is not older than ``last_modified``."""
    wanted = since = None
    for name, value in headers:
        if name == b"if-none-match":
            wanted = value
        elif name == b"if-modified-since":
            since = value
    if wanted is not None:
        tags = [t.strip().removeprefix(b"W/") for t in wanted.split(b",")]
        return etag in tags or b"*" in tags
    if since is None or last_modified is None:
        return False
    try:
        asked = parsedate_to_datetime(since.decode("latin-1"))
        modified = parsedate_to_datetime(last_modified.decode("latin-1"))
    except (TypeError, ValueError):
        return False
    return asked.tzinfo is not None and modified <= asked


CONDITIONAL = (b"if-none-match", b"if-modified-since")


def with_validators(
    request: Request, response: Response, last_modified: datetime | None
) -> Response:
    """``ETag`` and ``Last-Modified`` on a 200 response; 304 (no body) when the request's
    conditions say the client's copy is current."""
    etag = etag_of(bytes(response.body))
    modified = http_date(last_modified) if last_modified is not None else None
    response.headers["etag"] = etag.decode()
    if modified is not None:
        response.headers["last-modified"] = modified.decode()
    if fresh(request.scope["headers"], etag, modified):
        kept = {
            k: v
            for k, v in response.headers.items()
            if k in ("etag", "last-modified", "cache-control", "vary")
        }
        return Response(status_code=304, headers=kept)
    return response
