"""Wire format of profiles and staff user management."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from dreamer.auth.schemas import Name, Optional200, Phone
from dreamer.core.responses import ApiModel, InputModel
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


class EraseIn(InputModel):
    password: str = Field(min_length=1, max_length=1024, description="The current password")
    dry_run: bool = Field(default=False, description="Report what would be erased, change nothing")


class ErasureOut(ApiModel):
    pseudonym: str = Field(description="The id the person's audit entries now carry")
    requested_by: str = Field(description="self, staff or cli")
    counts: dict[str, int] = Field(description="Rows per `table.action` (deleted, pseudonymised)")
    dry_run: bool
