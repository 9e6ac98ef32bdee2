"""Staff settings of availability: business hours, notice, horizon, buffers, exceptions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.bookings import repository
from dreamer.bookings.schemas import AvailabilitySettingsIn, ExceptionIn
from dreamer.core.errors import NotFound, ValidationFailed
from dreamer.models import AvailabilityException, AvailabilitySettings


async def current(session: AsyncSession) -> AvailabilitySettings:
    return await repository.settings(session)


async def change(session: AsyncSession, wanted: AvailabilitySettingsIn) -> AvailabilitySettings:
    """Change the rules sent; weekly hours merge day by day into the current ones."""
    changes = wanted.model_dump(exclude_unset=True, exclude_none=True)
    if "weekly_hours" in changes:
        now = await repository.settings(session)
        changes["weekly_hours"] = {**now.weekly_hours, **changes["weekly_hours"]}
    if changes:
        await repository.update_settings(session, changes)
    return await repository.settings(session)


async def exceptions(session: AsyncSession) -> Sequence[AvailabilityException]:
    return await repository.exceptions(session)


async def add_exception(session: AsyncSession, day: ExceptionIn) -> AvailabilityException:
    """A closed day, or a day with hours of its own (409 if the date has one already)."""
    if not day.is_closed and not day.hours:
        raise ValidationFailed("An open exception needs its hours")
    return await repository.add_exception(session, day.model_dump())


async def remove_exception(session: AsyncSession, exception_id: uuid.UUID) -> None:
    if not await repository.remove_exception(session, exception_id):
        raise NotFound("No such exception")
