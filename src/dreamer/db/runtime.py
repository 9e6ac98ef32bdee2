"""Which database the process uses: ``DATABASE_URL``, or the embedded server under DREAMER_HOME."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from dreamer.core.config import Settings
from dreamer.db.bootstrap import provision
from dreamer.db.embedded import (
    APP_ROLE,
    AUTH_ROLE,
    DATABASE,
    OWNER_ROLE,
    SUPERUSER,
    WORKER_ROLE,
    EmbeddedPostgres,
)


@dataclass
class DatabaseTarget:
    app_url: str
    owner_url: str | None
    auth_url: str | None = None
    worker_url: str | None = None
    server: EmbeddedPostgres | None = None
    started: bool = False  # this process started the server (and should stop it)

    def close(self) -> None:
        if self.server is not None and self.started:
            self.server.stop()


def embedded_server(settings: Settings) -> EmbeddedPostgres:
    return EmbeddedPostgres(
        settings.dreamer_home, settings.pg_bindir, tcp_port=settings.embedded_pg_port
    )


def start_embedded(settings: Settings, *, detached: bool = False) -> DatabaseTarget:
    """Start (or reuse) the embedded server and make sure roles and database exist."""
    server = embedded_server(settings)
    started = server.start(detached=detached)
    creds = server.credentials()
    asyncio.run(
        provision(
            server.url(SUPERUSER, "postgres"),
            DATABASE,
            owner_password=creds.owner,
            app_password=creds.app,
            auth_password=creds.auth,
            worker_password=creds.worker,
            statement_timeout_ms=settings.db_statement_timeout_ms,
        )
    )
    return DatabaseTarget(
        server.url(APP_ROLE),
        server.url(OWNER_ROLE),
        server.url(AUTH_ROLE),
        server.url(WORKER_ROLE),
        server,
        started,
    )


def resolve(settings: Settings) -> DatabaseTarget:
    if settings.database_url:
        return DatabaseTarget(
            settings.database_url,
            settings.database_owner_url,
            settings.database_auth_url,
            settings.database_worker_url,
        )
    return start_embedded(settings)
