"""``dreamer``: serve, db, migrate, seed, export-user, erase-user."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import typer
from pydantic import ValidationError

from dreamer.core.config import SHUTDOWN_SECONDS, Settings, get_settings
from dreamer.db import migrate as migrations
from dreamer.db import rehearsal
from dreamer.db.embedded import OWNER_ROLE, EmbeddedPostgresError
from dreamer.db.runtime import DatabaseTarget, embedded_server, resolve, start_embedded
from dreamer.db.supervisor import Supervisor, Watched
from dreamer.db.urls import plain_url, redact
from dreamer.models import STAFF_ROLES

log = logging.getLogger("dreamer.cli")
app = typer.Typer(help="Dreamer: backend of Dreamer AI Solutions.", no_args_is_help=True)
db_app = typer.Typer(help="The embedded PostgreSQL server (used when DATABASE_URL is unset).")
app.add_typer(db_app, name="db")
bench_app = typer.Typer(help="Data for benchmarks and load tests.")
app.add_typer(bench_app, name="bench")
import_app = typer.Typer(help="Data from elsewhere: the original system's database.")
app.add_typer(import_app, name="import")


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def _owner_url(target: DatabaseTarget) -> str:
    if target.owner_url is None:
        raise _fail("DATABASE_OWNER_URL is not set: migrations and seeding need the owner role")
    return target.owner_url


def _migrate(target: DatabaseTarget) -> None:
    owner = _owner_url(target)
    migrations.upgrade(owner)
    asyncio.run(migrations.ensure_partitions(owner))


def _seed(settings: Settings, target: DatabaseTarget, *, demo: bool, only_if_empty: bool) -> None:
    from dreamer.seed.runner import run_seed

    report = asyncio.run(
        run_seed(settings, _owner_url(target), demo=demo, only_if_empty=only_if_empty)
    )
    if report is None:
        return
    typer.echo(
        f"Seeded: {report.services_created} services, {report.demo_created} demo records"
        + (", super_admin created" if report.admin_created else "")
    )
    if report.admin_password:
        typer.secho(
            f"\n  Admin login: {report.admin_email}\n  Password:    {report.admin_password}\n"
            "  (shown once; change it after signing in)\n",
            fg=typer.colors.YELLOW,
        )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (PORT)")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (WORKERS)")] = None,
    migrate: Annotated[bool, typer.Option(help="Apply migrations first")] = True,
) -> None:
    """Run the API (starting the embedded PostgreSQL when DATABASE_URL is unset)."""
    import uvicorn

    from dreamer.core.logging import configure_logging

    # The options become the environment, so the settings derived from HOST/PORT (PUBLIC_URL)
    # and the child processes (uvicorn's workers, the mail worker) agree with them.
    if host is not None:
        os.environ["HOST"] = host
    if port is not None:
        os.environ["PORT"] = str(port)
    get_settings.cache_clear()
    settings = get_settings()
    configure_logging(settings.log_level)
    try:
        target = resolve(settings)
    except EmbeddedPostgresError as exc:
        raise _fail(f"embedded PostgreSQL: {exc}") from None
    worker: _Child | None = None
    supervisor: Supervisor | None = None
    try:
        if migrate and target.owner_url:
            _migrate(target)
        if target.server is not None and settings.auto_seed:
            _seed(settings, target, demo=True, only_if_empty=True)
        # Worker processes inherit the resolved database and secret through the environment.
        os.environ["DATABASE_URL"] = target.app_url
        if target.owner_url:
            os.environ["DATABASE_OWNER_URL"] = target.owner_url
        if target.auth_url:
            os.environ["DATABASE_AUTH_URL"] = target.auth_url
        if target.worker_url:
            os.environ["DATABASE_WORKER_URL"] = target.worker_url
        os.environ["SECRET_KEY"] = settings.resolved_secret_key()
        get_settings.cache_clear()  # an in-process worker (WORKERS=1) must see them too
        bind_host, bind_port = settings.host, settings.port
        shown_host = "127.0.0.1" if bind_host in ("0.0.0.0", "::") else bind_host  # noqa: S104
        worker = _spawn_worker() if settings.run_worker and target.worker_url else None
        supervisor = _supervise(target, worker)
        typer.secho(
            f"Dreamer API on http://{shown_host}:{bind_port}  —  docs: "
            f"http://{shown_host}:{bind_port}/docs",
            fg=typer.colors.GREEN,
        )
        uvicorn.run(
            "dreamer.app:create_app",
            factory=True,
            host=bind_host,
            port=bind_port,
            workers=workers or settings.workers,
            log_level=settings.log_level.lower(),
            # uvicorn builds each access line's arguments before its logger filters them; a
            # level above INFO drops every line, so it is not asked to build them at all
            access_log=logging.getLevelName(settings.log_level.upper()) <= logging.INFO,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=int(SHUTDOWN_SECONDS),
        )
    finally:
        if supervisor is not None:
            supervisor.stop()
        if worker is not None:
            _stop(worker.process)
        target.close()


@dataclass
class _Child:
    """A restartable child process (the worker)."""

    spawn: Callable[[], subprocess.Popen[bytes]]
    process: subprocess.Popen[bytes]

    def exit_code(self) -> int | None:
        return self.process.poll()

    def restart(self) -> None:
        self.process = self.spawn()


def _supervise(target: DatabaseTarget, worker: _Child | None) -> Supervisor | None:
    watched = []
    server = target.server
    if server is not None and target.started:

        def restart_server() -> None:
            server.start()

        watched.append(Watched("embedded PostgreSQL", server.exit_code, restart_server))
    if worker is not None:
        watched.append(Watched("worker", worker.exit_code, worker.restart))
    if not watched:
        return None
    supervisor = Supervisor(watched)
    supervisor.start()
    return supervisor


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if the process has not finished its graceful stop in time."""
    process.terminate()
    try:
        process.wait(timeout=SHUTDOWN_SECONDS * 2)
    except subprocess.TimeoutExpired:
        log.warning("the worker did not stop in time; killing it")
        process.kill()
        process.wait()


def _spawn_worker() -> _Child:
    return _Child(_worker_process, _worker_process())


def _worker_process() -> subprocess.Popen[bytes]:
    """The background worker as a child that dies with this process."""
    from dreamer.db.embedded import die_with_parent

    return subprocess.Popen(
        [sys.executable, "-m", "dreamer.cli", "worker"], preexec_fn=die_with_parent
    )


@app.command()
def worker() -> None:
    """Run the background worker (mail delivery, maintenance) until interrupted."""
    from dreamer.core.logging import configure_logging
    from dreamer.worker import build_worker

    settings = get_settings()
    configure_logging(settings.log_level)
    target = resolve(settings)
    try:
        if target.worker_url is None:
            raise _fail("the worker needs DATABASE_WORKER_URL (the dreamer_worker role)")
        runner = build_worker(settings, target.worker_url)
        typer.echo("worker running")
        asyncio.run(runner.run())
    finally:
        target.close()


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(prompt=True, help="E-mail address of the new account")],
    first_name: Annotated[str, typer.Option(help="First name")] = "Site",
    last_name: Annotated[str, typer.Option(help="Last name")] = "Administrator",
    role: Annotated[str, typer.Option(help="admin or super_admin")] = "admin",
    password: Annotated[
        str | None, typer.Option(help="Password (asked for when omitted; never echoed)")
    ] = None,
) -> None:
    """Create a staff account (verified and active), or promote an existing one."""
    from dreamer.seed.admin import create_staff

    if role not in STAFF_ROLES:
        raise _fail("--role must be admin or super_admin")
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = get_settings()
    target = resolve(settings)
    try:
        _migrate(target)
        outcome = asyncio.run(
            create_staff(
                settings,
                _owner_url(target),
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                role=role,
            )
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    finally:
        target.close()
    typer.echo(outcome)


async def _person(conn: asyncpg.Connection, email: str) -> uuid.UUID:
    found = await conn.fetchval("select id from users where lower(email) = lower(btrim($1))", email)
    if found is None:
        raise ValueError(f"no account with the address {email}")
    return uuid.UUID(str(found))


async def _export_user(owner_url: str, email: str) -> str:
    conn = await asyncpg.connect(plain_url(owner_url))
    try:
        document = await conn.fetchval("select gdpr_export($1)::text", await _person(conn, email))
    finally:
        await conn.close()
    return json.dumps(json.loads(document), indent=2, ensure_ascii=False)


async def _erase_user(owner_url: str, email: str, dry_run: bool) -> dict[str, Any]:
    conn = await asyncpg.connect(plain_url(owner_url))
    try:
        async with rehearsal.transaction(conn, dry_run=dry_run):
            person = await _person(conn, email)
            report = json.loads(await conn.fetchval("select gdpr_erase($1)::text", person))
    finally:
        await conn.close()
    return dict(report)


@app.command("export-user")
def export_user(
    email: Annotated[str, typer.Argument(help="The account's e-mail address")],
    output: Annotated[
        Path | None, typer.Option(help="Write the document here (default: standard output)")
    ] = None,
) -> None:
    """Everything held about a person, as the JSON document GET /users/me/export gives."""
    target = resolve(get_settings())
    try:
        _migrate(target)
        document = asyncio.run(_export_user(_owner_url(target), email))
    except ValueError as exc:
        raise _fail(str(exc)) from None
    finally:
        target.close()
    if output is None:
        typer.echo(document)
    else:
        output.write_text(document + "\n")
        output.chmod(0o600)
        typer.echo(f"written to {output}")


@app.command("erase-user")
def erase_user(
    email: Annotated[str, typer.Argument(help="The account's e-mail address")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report per table what would happen; change nothing")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Erase a person (GDPR art. 17) as DELETE /users/me does, recorded as asked by the CLI."""
    if not dry_run and not yes:
        typer.confirm(f"Erase {email} and everything about them for good?", abort=True)
    target = resolve(get_settings())
    try:
        _migrate(target)
        report = asyncio.run(_erase_user(_owner_url(target), email, dry_run))
    except ValueError as exc:
        raise _fail(str(exc)) from None
    finally:
        target.close()
    done = "would erase" if dry_run else "erased"
    typer.echo(f"{done} {email} (pseudonym {report['pseudonym']}):")
    for key, n in sorted(report["counts"].items()):
        table, _, action = key.partition(".")
        typer.echo(f"  {table:28} {action:15} {n}")


@import_app.command("legacy")
def import_legacy(
    source: Annotated[
        str,
        typer.Option("--from", help="The original system's database (postgresql://…)"),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and check everything, write nothing")
    ] = False,
) -> None:
    """Import a database of the original system (ids, bcrypt passwords and all), in one
    transaction; a second run changes nothing. Ends with rows read/imported/skipped per table."""
    from dreamer.seed.legacy import run
    from dreamer.seed.scale import bar

    settings = get_settings()
    target = resolve(settings)
    try:
        _migrate(target)
        report = asyncio.run(
            run(
                plain_url(source),
                plain_url(_owner_url(target)),
                secret=settings.resolved_secret_key(),
                dry_run=dry_run,
                progress=bar(),
            )
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise _fail(f"import failed, nothing was written: {exc}") from None
    finally:
        target.close()
    _print_import(report)


def _print_import(report: Any) -> None:
    typer.echo(("dry run: nothing written" if report.dry_run else "imported") + ":")
    typer.echo(f"  {'table':26} {'read':>8} {'imported':>9} {'skipped':>8}  reasons")
    for table, figures in report.tables.items():
        skipped = sum(figures.skipped.values())
        reasons = "; ".join(f"{n} {why}" for why, n in figures.skipped.items() if n)
        typer.echo(f"  {table:26} {figures.read:8d} {figures.imported:9d} {skipped:8d}  {reasons}")
        if figures.dropped_columns:
            typer.echo(f"  {'':26} not kept: {', '.join(figures.dropped_columns)}")
    for note in report.notes:
        typer.echo(f"  note: {note}")


def _import_file(kind: str, path: Path, dry_run: bool) -> None:
    from dreamer.seed import flat

    try:
        rows = flat.read_rows(path, kind)
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read {path}: {exc}") from None
    settings = get_settings()
    target = resolve(settings)
    try:
        _migrate(target)
        report = asyncio.run(
            flat.run(
                kind,
                rows,
                plain_url(_owner_url(target)),
                secret=settings.resolved_secret_key(),
                dry_run=dry_run,
            )
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise _fail(f"import failed, nothing was written: {exc}") from None
    finally:
        target.close()
    _print_import(report)


DRY_RUN = typer.Option("--dry-run", help="Read and check everything, write nothing")
FILE = typer.Argument(help="CSV (with a header) or JSON array", exists=True, dir_okay=False)


@import_app.command("contacts")
def import_contacts(path: Annotated[Path, FILE], dry_run: Annotated[bool, DRY_RUN] = False) -> None:
    """Contact-form submissions → leads with their inquiry activities (email, name or
    first_name/last_name, company, phone, message, source, created_at)."""
    _import_file("contacts", path, dry_run)


@import_app.command("newsletter")
def import_newsletter(
    path: Annotated[Path, FILE], dry_run: Annotated[bool, DRY_RUN] = False
) -> None:
    """Newsletter subscribers (email, created_at, tags, status), honouring the suppression list."""
    _import_file("newsletter", path, dry_run)


@import_app.command("chat")
def import_chat(path: Annotated[Path, FILE], dry_run: Annotated[bool, DRY_RUN] = False) -> None:
    """Chat history (a JSON array of conversations with their messages)."""
    _import_file("chat", path, dry_run)


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
    check: Annotated[
        bool, typer.Option(help="Only check the schema against the models and db/sql/")
    ] = False,
    reapply: Annotated[
        bool, typer.Option(help="Apply db/sql/ even if unchanged (repairs hand-made drift)")
    ] = False,
) -> None:
    """Apply migrations as the owner role; with --check, fail on any drift instead."""
    target = resolve(get_settings())
    try:
        if check:
            owner = _owner_url(target)
            migrations.check(owner)
            problems = asyncio.run(migrations.definition_drift(owner))
            if problems:
                typer.echo("\n".join(problems), err=True)
                typer.echo(f"{len(problems)} object(s) differ from db/sql/", err=True)
                raise typer.Exit(1)
            typer.echo("schema matches the models and db/sql/")
            return
        owner = _owner_url(target)
        migrations.upgrade(owner, revision, reapply=reapply)
        asyncio.run(migrations.ensure_partitions(owner))
        typer.echo(f"migrated to {revision}")
    finally:
        target.close()


@app.command()
def seed(
    demo: Annotated[
        bool, typer.Option(help="Also add demo case studies, testimonials, pages")
    ] = False,
) -> None:
    """Create the super_admin and the default services (idempotent)."""
    settings = get_settings()
    target = resolve(settings)
    try:
        _migrate(target)
        _seed(settings, target, demo=demo, only_if_empty=False)
    finally:
        target.close()


@db_app.command("start")
def db_start() -> None:
    """Start the embedded server in the background (until "dreamer db stop")."""
    settings = get_settings()
    target = start_embedded(settings, detached=True)
    typer.echo(f"running: {redact(target.app_url)}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    stopped = embedded_server(get_settings()).stop()
    typer.echo("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Where the embedded server lives and whether it runs (exit 3 when stopped)."""
    server = embedded_server(get_settings())
    status = server.status()
    for key, value in status.items():
        typer.echo(f"{key}: {value}")
    if not status["running"]:
        raise typer.Exit(3)


@db_app.command("url")
def db_url(
    owner: Annotated[bool, typer.Option("--owner", help="The owner role's URL")] = False,
    role: Annotated[
        str | None, typer.Option(help="A role's URL: app, owner, auth or worker")
    ] = None,
) -> None:
    """Print the connection URL of the app role (or another role's) on the last line."""
    wanted = "owner" if owner else (role or "app")
    if wanted not in ROLE_SETTINGS:
        raise _fail(f"no such role {wanted!r}: app, owner, auth or worker")
    settings = get_settings()
    if settings.database_url:
        url = getattr(settings, ROLE_SETTINGS[wanted])
        if url is None:
            raise _fail(f"{ROLE_SETTINGS[wanted].upper()} is not set")
        typer.echo(url)
        return
    server = embedded_server(settings)
    if not server.initialized:
        raise _fail("the embedded server was never started: run `dreamer db start`")
    typer.echo(server.url(f"dreamer_{wanted}") if wanted != "app" else server.url())


ROLE_SETTINGS = {
    "app": "database_url",
    "owner": "database_owner_url",
    "auth": "database_auth_url",
    "worker": "database_worker_url",
}


@db_app.command("psql", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def db_psql(
    ctx: typer.Context,
    owner: Annotated[
        bool, typer.Option("--owner/--app", help="Connect as owner or app role")
    ] = True,
) -> None:
    """Open psql on the embedded database; further arguments go to psql (-c "select 1")."""
    settings = get_settings()
    target = start_embedded(settings, detached=True)
    assert target.server is not None
    args, env = target.server.psql_command(OWNER_ROLE if owner else "dreamer_app")
    raise typer.Exit(subprocess.call([*args, *ctx.args], env=env))


@bench_app.command("generate")
def bench_generate(
    scale: Annotated[
        float,
        typer.Option(help="1 ≈ 10k users, 100k leads, 500k activities, 20k bookings, 1M events"),
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same rows")] = 1,
    as_of: Annotated[
        str | None, typer.Option(help="The day the data set ends (YYYY-MM-DD; default today)")
    ] = None,
) -> None:
    """Load a realistic data set through COPY (every account's password: bench-password-1)."""
    import datetime as dt

    from dreamer.auth.service import passwords_for
    from dreamer.seed.scale import PASSWORD, Plan, bar, generate

    try:
        plan = Plan.at(scale)
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    settings = get_settings()
    target = resolve(settings)
    try:
        _migrate(target)
        _seed(settings, target, demo=False, only_if_empty=True)
        report = asyncio.run(
            generate(
                _owner_url(target),
                plan,
                seed=seed,
                as_of=day,
                password_hash=passwords_for(settings).hash(PASSWORD),
                progress=bar(),
            )
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    finally:
        target.close()
    rows = ", ".join(f"{n:,} {table}" for table, n in report.rows.items())
    typer.echo(f"generated at scale {scale:g} in {report.seconds:.0f} s: {rows}")


def main() -> None:
    try:
        app()
    except ValidationError as exc:  # configuration: name the variables, no traceback
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]).upper() or "configuration"
            typer.secho(f"{field}: {error['msg']}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
