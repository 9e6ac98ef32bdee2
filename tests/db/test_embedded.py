"""The embedded PostgreSQL: root-safe, socket-only, reusable, and never orphaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from dreamer.db.embedded import SUPERUSER, EmbeddedPostgres, find_bindir

BINDIR = Path(os.environ["PG_BINDIR"]) if os.environ.get("PG_BINDIR") else None


@pytest.fixture
def home() -> Iterator[Path]:
    base = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="dreamer-emb-", dir=base) as tmp:
        yield Path(tmp)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    return state != "Z"


def _wait_dead(pid: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


async def test_starts_socket_only_in_a_private_data_dir(home: Path) -> None:
    server = EmbeddedPostgres(home, BINDIR, fast=True)
    assert server.start() is True
    try:
        assert server.root == home.absolute() / f"pg{server.major}"
        assert (server.datadir.stat().st_mode & 0o777) == 0o700
        assert (server.socket_dir / ".s.PGSQL.5432").exists()
        conn = await asyncpg.connect(server.url(SUPERUSER, "postgres"))
        try:
            assert await conn.fetchval("show listen_addresses") == ""
            assert int(await conn.fetchval("show server_version_num")) >= 150000
        finally:
            await conn.close()
        # a second manager on the same home reuses the running server
        assert EmbeddedPostgres(home, BINDIR).start() is False
    finally:
        assert server.stop() is True
    assert not server.is_running()


def test_killing_the_parent_takes_the_postmaster_down(home: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from dreamer.db.embedded import EmbeddedPostgres\n"
        "bindir = Path(sys.argv[2]) if len(sys.argv) > 2 else None\n"
        "s = EmbeddedPostgres(Path(sys.argv[1]), bindir, fast=True)\n"
        "s.start()\n"
        "print(s.status()['pid'], flush=True)\n"
        "time.sleep(600)\n"
    )
    args = [sys.executable, "-c", script, str(home)] + ([str(BINDIR)] if BINDIR else [])
    parent = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    postmaster = int(parent.stdout.readline())
    assert _alive(postmaster)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert _wait_dead(postmaster), "postmaster outlived its killed parent"


def test_long_data_dir_paths_use_a_short_socket_dir(home: Path) -> None:
    deep = home / ("d" * 60) / ("e" * 60)
    server = EmbeddedPostgres(deep, BINDIR)
    assert len(str(server.socket_dir)) < 60
    assert (server.socket_dir.stat().st_mode & 0o777) == 0o700


def test_binaries_from_pg_bindir_win() -> None:
    system = Path("/usr/lib/postgresql/15/bin")
    if not (system / "postgres").exists():
        pytest.skip("no Debian PostgreSQL 15 here")
    assert find_bindir(system) == system


def test_cli_db_commands(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_OWNER_URL")}
    env["DREAMER_HOME"] = str(home)
    dreamer = [sys.executable, "-m", "dreamer.cli"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*dreamer, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    assert run("db", "status").returncode == 3
    started = run("db", "start")
    assert started.returncode == 0, started.stderr
    try:
        assert run("db", "status").returncode == 0
        url = run("db", "url").stdout.strip().splitlines()[-1]
        assert url.startswith("postgresql://dreamer_app:")
        owner = run("db", "url", "--owner").stdout.strip().splitlines()[-1]
        assert owner.startswith("postgresql://dreamer_owner:")
    finally:
        assert run("db", "stop").returncode == 0
    assert run("db", "status").returncode == 3
