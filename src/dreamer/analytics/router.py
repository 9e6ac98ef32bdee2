"""What a site sends: events (one or a batch of up to 500) and the website's Web Vitals."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from dreamer.analytics import service
from dreamer.analytics.schemas import MAX_BATCH, EventIn, EventsIn, IngestOut, WebVitalIn
from dreamer.core.errors import BadRequest, ValidationFailed
from dreamer.core.responses import Envelope, JSONResponse, ok
from dreamer.deps import BEARER_DOCS, caller, rate_limit

router = APIRouter(tags=["analytics"])

PER_IP = rate_limit("analytics:ip", "rate_limit_analytics_ip")
_BATCH = TypeAdapter(list[EventIn])
_EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/EventIn"},
                        {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/EventIn"},
                            "maxItems": MAX_BATCH,
                        },
                        {"$ref": "#/components/schemas/EventsIn"},
                    ]
                }
            }
        },
    }
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many analytics requests from this IP"}
}


def _invalid(exc: ValidationError, prefix: tuple[str, ...] = ()) -> RequestValidationError:
    return RequestValidationError(
        [{**e, "loc": ("body", *prefix, *e["loc"])} for e in exc.errors(include_input=False)]
    )


def _events(raw: bytes) -> list[EventIn]:
    """One event, an array of them, or ``{"events": [...]}``: at most MAX_BATCH."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("The body is not valid JSON") from None
    try:
        if isinstance(body, list):
            if not 1 <= len(body) <= MAX_BATCH:
                raise ValidationFailed(f"A batch holds 1 to {MAX_BATCH} events")
            return _BATCH.validate_python(body)
        if isinstance(body, dict) and "events" in body:
            return EventsIn.model_validate(body).events
        return [EventIn.model_validate(body)]
    except ValidationError as exc:
        raise _invalid(exc) from None


async def _accept(request: Request, events: list[EventIn]) -> JSONResponse:
    """202 once the batch is durably written, or at once when the browser opted out."""
    if service.opted_out(request.headers):
        dropped = IngestOut(accepted=0, dropped=len(events), reason="do-not-track")
        return ok(dropped.model_dump(mode="json"), status=202)
    ctx, database = await caller(request)
    async with database.transaction(ctx) as session:
        written = await service.ingest(session, ctx, events)
    return ok(IngestOut(accepted=written, dropped=0).model_dump(mode="json"), status=202)


@router.post(
    "/analytics/events",
    status_code=202,
    response_model=Envelope[IngestOut],
    responses=_RESPONSES,
    openapi_extra=_EVENTS_BODY,
    dependencies=[PER_IP, BEARER_DOCS],
)
async def track_events(request: Request) -> JSONResponse:
    """Record one event, an array of up to 500, or `{"events": [...]}` (one client's), in one
    write. The type comes from the documented vocabulary or is `custom:<name>`; properties
    are small and flat; client times are clamped to the last 24 hours. Nothing identifying
    is kept (see the README's analytics section): no IP (a /24 or /48 network at most), no
    user agent (its browser/OS/device class), no visitor or session id (hashes salted for
    the day). `DNT: 1` or `Sec-GPC: 1`: nothing is recorded (202, `dropped`). A batch is
    accepted or refused whole (422 names the event and field)."""
    return await _accept(request, _events(await request.body()))


@router.post(
    "/analytics/web-vitals",
    status_code=202,
    response_model=Envelope[IngestOut],
    responses=_RESPONSES,
    dependencies=[PER_IP, BEARER_DOCS],
)
async def track_web_vital(body: WebVitalIn, request: Request) -> JSONResponse:
    """The website's Web Vitals (`{metric, value, score, url, timestamp (ms), userAgent}`;
    other fields are ignored), stored as a `web_vital` event; the legacy path
    `/api/analytics/web-vitals` reaches it through the 308 redirect."""
    return await _accept(request, [service.web_vital(body)])
