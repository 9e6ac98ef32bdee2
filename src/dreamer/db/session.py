"""The engine, and one transaction carrying the caller's identity for RLS and the audit trail.

Every unit of work (an HTTP request, a CLI command, a job) runs in ``Database.transaction(ctx)``:
one transaction whose first statement sets the transaction-local settings the RLS policies and
the audit trigger read. Values travel as bind parameters of ``set_config(..., true)``, never as
SQL text. Services never commit: leaving the block commits, an exception rolls back.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from dreamer.db.urls import async_url

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
        return self.user_id is not None and self.role in ("admin", "super_admin")


SYSTEM = RequestContext(role="system")

_SET_CONTEXT = text(
    "select set_config('app.user_id', :user_id, true),"
    " set_config('app.role', :role, true),"
    " set_config('app.visitor_id', :visitor_id, true),"
    " set_config('app.ip', :ip, true),"
    " set_config('app.user_agent', :user_agent, true),"
    " set_config('app.request_id', :request_id, true)"
)


def context_params(ctx: RequestContext) -> dict[str, str]:
    return {
        "user_id": str(ctx.user_id) if ctx.user_id else "",
        "role": ctx.role,
        "visitor_id": ctx.visitor_id or "",
        "ip": ctx.ip or "",
        "user_agent": (ctx.user_agent or "")[:1000],
        "request_id": ctx.request_id or "",
    }


class Database:
    """The app role's engine and session factory."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=False,
            pool_recycle=1800,
            echo=echo,
            connect_args={"server_settings": {"application_name": "dreamer"}},
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def transaction(self, ctx: RequestContext) -> AsyncIterator[AsyncSession]:
        """One transaction with ``ctx`` applied; commits on success, rolls back on error."""
        async with self.sessions() as session, session.begin():
            await session.execute(_SET_CONTEXT, context_params(ctx))
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
