"""Wire format of authentication (the original contract's camelCase, snake_case accepted)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from dreamer.core.emails import EmailAddress
from dreamer.core.responses import ApiModel, InputModel
from dreamer.models import UserRole, UserStatus

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Optional200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
# Passwords are never stripped or truncated; the policy (length, common list) is checked apart.
Password = Annotated[str, Field(min_length=1, max_length=4096)]
Token = Annotated[str, Field(min_length=16, max_length=512)]


class RegisterIn(InputModel):
    email: EmailAddress
    password: Password
    first_name: Name
    last_name: Name
    company: Optional200 | None = None
    phone: Phone | None = None
    job_title: Optional200 | None = None
    use_cookies: bool = False


class LoginIn(InputModel):
    email: EmailAddress
    password: Password
    use_cookies: bool = False


class RefreshIn(InputModel):
    refresh_token: Token | None = None
    use_cookies: bool = False


class EmailIn(InputModel):
    email: EmailAddress


class ResendIn(InputModel):
    email: EmailAddress | None = None


class TokenIn(InputModel):
    token: Token


class ResetConfirmIn(InputModel):
    token: Token
    password: Password


class ChangePasswordIn(InputModel):
    current_password: Password
    new_password: Password


class UserOut(ApiModel):
    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    phone: str | None
    company: str | None
    job_title: str | None
    role: UserRole
    status: UserStatus
    email_verified: bool
    accepts_leads: bool
    last_login: datetime | None
    preferences: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class AuthOut(ApiModel):
    user: UserOut
    access_token: str
    refresh_token: str | None = Field(
        description="Absent when the tokens were set as cookies (useCookies)"
    )
    token_type: str = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int


class TokensOut(ApiModel):
    access_token: str
    refresh_token: str | None
    token_type: str = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int


class SessionOut(ApiModel):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip_address: str | None
    user_agent: str | None
    current: bool


class MessageOut(ApiModel):
    message: str
