"""Wire format of profiles and staff user management."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from dreamer.auth.schemas import Name, Optional200, Phone
from dreamer.core.responses import InputModel
from dreamer.models import UserRole, UserStatus


class ProfileIn(InputModel):
    """Only profile fields: role, status, email_verified, id and email are refused (422)."""

    first_name: Name | None = None
    last_name: Name | None = None
    company: Optional200 | None = None
    phone: Phone | None = None
    job_title: Optional200 | None = None
    preferences: dict[str, Any] | None = Field(default=None, max_length=50)


class AdminUserPatch(InputModel):
    status: UserStatus | None = None
    role: UserRole | None = None
    accepts_leads: bool | None = Field(
        default=None, description="staff only: receives new leads in the round robin"
    )
