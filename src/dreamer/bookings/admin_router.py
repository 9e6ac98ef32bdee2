"""Staff settings of availability: business hours, notice, horizon, buffers, exceptions."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from dreamer.bookings import settings_service as service
from dreamer.bookings.schemas import (
    AvailabilitySettingsIn,
    AvailabilitySettingsOut,
    ExceptionIn,
    ExceptionOut,
)
from dreamer.core.responses import Envelope, JSONResponse, ok
from dreamer.deps import DbSession, Staff

router = APIRouter(prefix="/admin/availability", tags=["admin: availability"])


def _settings_out(current: object) -> dict[str, object]:
    return AvailabilitySettingsOut.model_validate(current).model_dump(mode="json")


@router.get("", response_model=Envelope[AvailabilitySettingsOut])
async def get_settings(db: DbSession, ctx: Staff) -> JSONResponse:
    """The booking rules. `weeklyHours` maps ISO weekdays ('1' = Monday) to opening hours
    in the company's `timeZone`."""
    return ok(_settings_out(await service.current(db)))


@router.put("", response_model=Envelope[AvailabilitySettingsOut])
async def update_settings(body: AvailabilitySettingsIn, db: DbSession, ctx: Staff) -> JSONResponse:
    """Change any of the rules (only the fields sent)."""
    return ok(_settings_out(await service.change(db, body)))


@router.get("/exceptions", response_model=Envelope[list[ExceptionOut]])
async def list_exceptions(db: DbSession, ctx: Staff) -> JSONResponse:
    """Holidays and extra opening days, by date."""
    rows = await service.exceptions(db)
    return ok([ExceptionOut.model_validate(r).model_dump(mode="json") for r in rows])


@router.post("/exceptions", status_code=201, response_model=Envelope[ExceptionOut])
async def add_exception(body: ExceptionIn, db: DbSession, ctx: Staff) -> JSONResponse:
    """A closed day (`isClosed: true`) or a day with its own `hours`; 409 if the date has one."""
    created = await service.add_exception(db, body)
    return ok(ExceptionOut.model_validate(created).model_dump(mode="json"), status=201)


@router.delete("/exceptions/{exception_id}", response_model=Envelope[dict[str, str]])
async def remove_exception(exception_id: uuid.UUID, db: DbSession, ctx: Staff) -> JSONResponse:
    """Back to the weekly hours on that date."""
    await service.remove_exception(db, exception_id)
    return ok({"message": "Exception removed"})
