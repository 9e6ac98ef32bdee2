"""Who is asking, as the database should see it, and the one statement that tells it.

Every unit of work starts with ``app_begin(...)``: it sets the transaction-local settings the
RLS policies and the audit trigger read and, for a signed-in caller, checks that the token's
session is live and its role current (migration 0004). Values travel as bind parameters,
never as SQL text. Shared by the ORM sessions (``dreamer.db.session``) and the raw readers
(``dreamer.db.reader``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text

from dreamer.core.errors import Unauthorized
from dreamer.models import STAFF_ROLES

ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who is asking, as the database should see it."""

    user_id: uuid.UUID | None = None
    role: str = ANONYMOUS
    visitor_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    session_id: uuid.UUID | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_staff(self) -> bool:
        return self.user_id is not None and self.role in STAFF_ROLES


SYSTEM = RequestContext(role="system")

# One round trip: sets the transaction-local context and, for a signed-in caller, checks that
# the token's session is live and its role current (migration 0004, ``app_begin``).
BEGIN = text(
    "select app_begin(cast(:user_id as uuid), cast(:session_id as uuid), :role, :visitor_id,"
    " :ip, :user_agent, :request_id)"
)
# The same on raw asyncpg, its arguments from context_args().
BEGIN_RAW = "select app_begin($1::uuid, $2::uuid, $3, $4, $5, $6, $7)"


class StaleIdentity(Unauthorized):
    """The access token's session was revoked, or its role or the account changed."""

    def __init__(self) -> None:
        super().__init__("The session has ended or the account changed; sign in or refresh")


def context_params(ctx: RequestContext) -> dict[str, str | None]:
    return {
        "user_id": str(ctx.user_id) if ctx.user_id else None,
        "session_id": str(ctx.session_id) if ctx.session_id else None,
        "role": ctx.role,
        "visitor_id": ctx.visitor_id,
        "ip": ctx.ip,
        "user_agent": ctx.user_agent,
        "request_id": ctx.request_id,
    }


def context_args(ctx: RequestContext) -> tuple[object, ...]:
    return (
        ctx.user_id,
        ctx.session_id,
        ctx.role,
        ctx.visitor_id,
        ctx.ip,
        ctx.user_agent,
        ctx.request_id,
    )
