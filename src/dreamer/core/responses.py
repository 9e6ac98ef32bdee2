"""The public response contract: ``{"success": true, "data": …, "meta": {…}}`` in camelCase."""

from __future__ import annotations

import json
import math
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from starlette.responses import JSONResponse as StarletteJSONResponse

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
