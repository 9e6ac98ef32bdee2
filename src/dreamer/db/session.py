"""The engine, and one transaction carrying the caller's identity for RLS and the audit trail.

Every unit of work (an HTTP request, a CLI command, a job) runs in ``Database.transaction(ctx)``:
one transaction whose first statement sets the transaction-local settings the RLS policies and
the audit trigger read. Values travel as bind parameters of ``set_config(..., true)``, never as
SQL text. Services never commit: leaving the block commits, an exception rolls back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from dreamer.core.errors import CommitAnyway
from dreamer.db.context import (
    ANONYMOUS,
    BEGIN,
    SYSTEM,
    RequestContext,
    StaleIdentity,
    context_params,
)
from dreamer.db.reader import PublicReader
from dreamer.db.urls import async_url, plain_url

__all__ = ["ANONYMOUS", "SYSTEM", "Database", "RequestContext", "StaleIdentity", "context_params"]


def _closed_is_replaced(engine: AsyncEngine) -> None:
    """A pooled connection the server has dropped (a restart, a failover, a DBA's
    ``pg_terminate_backend``) is replaced when it is checked out, not handed to a request that
    would fail on it: no round trip, the driver already saw the socket close."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _check(dbapi_connection: object, record: object, proxy: object) -> None:
        driver = getattr(record, "driver_connection", None)
        if isinstance(driver, asyncpg.Connection) and driver.is_closed():
            raise DisconnectionError("the server closed this pooled connection")


class Database:
    """The app role's engine and session factory."""

    def __init__(
        self, url: str, *, pool_size: int = 10, pool_timeout: float = 30.0, echo: bool = False
    ) -> None:
        self.url = url
        # Fixed pools (no overflow): past pool_size a request waits for a connection (at most
        # pool_timeout, then 503) rather than open one of its own that is closed again when it
        # is returned: under a burst that was a new backend every few requests, each paying a
        # fork, a SCRAM handshake and cold plan caches (see dreamer.db.reader.LazyPool).
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=pool_timeout,
            pool_pre_ping=False,
            pool_recycle=1800,
            echo=echo,
            hide_parameters=True,  # bound values (hashes, digests) never reach logs or errors
            connect_args={"server_settings": {"application_name": "dreamer"}},
        )
        _closed_is_replaced(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # The hottest anonymous reads, on raw asyncpg (dreamer.db.reader).
        self.public = PublicReader(
            plain_url(url), size=max(2, pool_size // 2), timeout=pool_timeout
        )
        # Anonymous reads: the same role, autocommit, and read-only enforced by PostgreSQL.
        self.reader: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=max(2, pool_size // 2),
            max_overflow=0,
            pool_timeout=pool_timeout,
            pool_recycle=1800,
            isolation_level="AUTOCOMMIT",
            hide_parameters=True,
            connect_args={
                "server_settings": {
                    "application_name": "dreamer-read",
                    "default_transaction_read_only": "on",
                }
            },
        )
        _closed_is_replaced(self.reader)

    @asynccontextmanager
    async def transaction(self, ctx: RequestContext) -> AsyncIterator[AsyncSession]:
        """One transaction with ``ctx`` applied; commits on success, rolls back on error."""
        async with self.sessions() as session:
            transaction = await session.begin()
            try:
                await self.identify(session, ctx)
                yield session
            except CommitAnyway:
                await transaction.commit()
                raise
            except BaseException:
                await transaction.rollback()
                raise
            else:
                await transaction.commit()

    @asynccontextmanager
    async def read(self, ctx: RequestContext) -> AsyncIterator[AsyncSession]:
        """A unit of work that only reads. A signed-in caller gets ``transaction(ctx)``. An
        anonymous one gets a read-only autocommit connection and no context statement: RLS
        reads an unset context as the anonymous caller (the least a policy allows), and a
        read changes nothing the audit trail would record, so the query is the only round
        trip. PostgreSQL refuses any write on it (``default_transaction_read_only``)."""
        if ctx.user_id is not None:
            async with self.transaction(ctx) as session:
                yield session
            return
        # bound to the engine, the session takes a connection only when it first queries
        session = AsyncSession(bind=self.reader, expire_on_commit=False, autoflush=False)
        try:
            yield session
        finally:
            await session.close()

    @asynccontextmanager
    async def rows(self, ctx: RequestContext) -> AsyncIterator[PublicReader | asyncpg.Connection]:
        """Raw reads (asyncpg: ``fetch``/``fetchrow``) as ``ctx``: the public reader for an
        anonymous caller (one round trip a statement), else a read-only transaction opened
        with the caller's context (``PublicReader.as_caller``)."""
        if ctx.user_id is None:
            yield self.public
            return
        async with self.public.as_caller(ctx) as conn:
            yield conn

    @staticmethod
    async def identify(session: AsyncSession, ctx: RequestContext) -> None:
        """(Re)set the caller inside the current transaction, e.g. right after a login."""
        if not await session.scalar(BEGIN, context_params(ctx)):
            raise StaleIdentity

    async def dispose(self) -> None:
        await self.engine.dispose()
        await self.reader.dispose()
        await self.public.close()
