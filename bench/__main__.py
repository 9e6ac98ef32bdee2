"""Throughput of the API's request path, as ratios to a baseline measured in the same run.

Starts ``dreamer serve`` on a throwaway embedded database (a temporary DREAMER_HOME, seeded with
the demo data), a second Dreamer on the same database with ``PUBLIC_CACHE=false`` (every read
goes to PostgreSQL), and the baseline in ``bench/baseline.py`` (bare ASGI +
asyncpg, the same SQL and JSON, no framework, no RLS), both under uvicorn with the same number
of workers. Each scenario is loaded with ``wrk`` on both, alternating, for ``--rounds`` rounds;
the best round of each counts (the machine is shared: the best is the least disturbed). Prints
requests/s, p50, p99, errors and the ratio to the baseline, and writes the figures as JSON to
``bench/results/``.

Usage: ``make bench`` (installs wrk when run as root) or
``python -m bench [--seconds 6] [--connections 32] [--workers 2] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from dreamer.seed.scale import EMAIL_DOMAIN, PASSWORD

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
SLUG = "ai-strategy-consultation"
SCALE = "0.05"  # the generated data behind the signed-in reads (500 users, 1k bookings)
CONTACT_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"name": "Bench Lead", "email": "lead.%d.%d@bench.example", '
    .. '"company": "Bench Ltd", "message": "We would like to talk about an AI assistant.", '
    .. '"type": "consultation"}', math.random(1000000000), counter)
  return wrk.format("POST", "/api/v1/contact", {["Content-Type"] = "application/json"}, body)
end
"""
LOGIN_LUA = """
request = function()
  return wrk.format("POST", "/api/v1/auth/login", {["Content-Type"] = "application/json"},
    '{"email": "%s", "password": "%s"}')
end
"""
UNLIMITED = "1000000000/1"  # the rate limits, raised for the run (they would refuse the load)
LIMITS = (
    "RATE_LIMIT_CONTACT_IP",
    "RATE_LIMIT_CONTACT_EMAIL",
    "RATE_LIMIT_LOGIN_IP",
    "RATE_LIMIT_LOGIN_ACCOUNT_IP",
    "RATE_LIMIT_LOGIN_ACCOUNT",
    "RATE_LIMIT_LOGIN_DEVICE",
    "RATE_LIMIT_CHAT_IP",
)
# the chat quotas of anonymous visitors, raised for the run (messages per hour, per day, tokens)
CHAT_QUOTAS = "anonymous=1000000000/1000000000/1000000000000"
VISITORS = 64  # anonymous visitors chatting at once, a conversation each
CHAT_LUA = """
local conversations = {$CONVERSATIONS}
request = function()
  local pick = conversations[math.random(#conversations)]
  return wrk.format("POST", "/api/v1/chat/conversations/" .. pick[2] .. "/messages",
    {["Content-Type"] = "application/json", ["X-Visitor-Id"] = pick[1]},
    '{"content": "How much does an AI strategy consultation cost, and how long does it take?"}')
end
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    which: str  # which Dreamer: "cached" (dreamer serve) or "uncached" (PUBLIC_CACHE=false)
    path: str
    baseline_path: str  # what the baseline serves for the ratio (the same read; for lead
    target: float | None  # capture the service read, whose rate it is held against; None:
    # no target, the ratio is reported)
    signed_in: bool = False
    lua: str | None = None
    peer_target: float | None = None  # the ratio to the DRF peer (bench/peer), same path


SCENARIOS = [
    Scenario("healthz (no database)", "cached", "/healthz", "/healthz", 0.8),
    Scenario(
        "service by slug",
        "cached",
        f"/api/v1/services/{SLUG}",
        f"/api/v1/services/{SLUG}",
        1.5,
        peer_target=3.0,
    ),
    Scenario(
        "service list", "cached", "/api/v1/services", "/api/v1/services", 1.5, peer_target=3.0
    ),
    Scenario(
        "service by slug, no cache",
        "uncached",
        f"/api/v1/services/{SLUG}",
        f"/api/v1/services/{SLUG}",
        0.6,
    ),
    Scenario("service list, no cache", "uncached", "/api/v1/services", "/api/v1/services", 0.6),
    Scenario(
        "page by slug",
        "cached",
        "/api/v1/pages/about",
        "/api/v1/pages/about",
        1.5,
        peer_target=3.0,
    ),
    Scenario(
        "case-study list",
        "cached",
        "/api/v1/case-studies",
        "/api/v1/case-studies",
        1.5,
        peer_target=3.0,
    ),
    Scenario(
        "page by slug, no cache", "uncached", "/api/v1/pages/about", "/api/v1/pages/about", 0.6
    ),
    Scenario(
        "case-study list, no cache",
        "uncached",
        "/api/v1/case-studies",
        "/api/v1/case-studies",
        0.6,
    ),
    Scenario(
        "own profile (RLS)", "cached", "/api/v1/users/profile", "/api/v1/users/profile", 0.5, True
    ),
    Scenario(
        "own bookings (RLS)",
        "cached",
        "/api/v1/bookings",
        "/api/v1/bookings",
        0.5,
        True,
        peer_target=2.0,
    ),
    Scenario(
        "lead capture POST /contact",
        "cached",
        "/api/v1/contact",
        f"/api/v1/services/{SLUG}",
        0.35,
        lua=CONTACT_LUA,
    ),
    Scenario(
        "chat turn (built-in)",
        "cached",
        "/api/v1/chat/conversations",
        f"/api/v1/services/{SLUG}",
        None,
        lua=CHAT_LUA,
    ),
]


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not become ready")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    url: str,
    seconds: int,
    connections: int,
    *,
    headers: dict[str, str] | None = None,
    lua: str | None = None,
    timeout: int = 2,
) -> Load:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s"]
    command.append("--latency")
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if lua:
            script.write(lua)
            script.flush()
            command += ["-s", script.name]
        out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    if rate is None or p50 is None or p99 is None:
        raise SystemExit(f"cannot read wrk output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Load(float(rate.group(1)), _ms(*p50.groups()), _ms(*p99.groups()), errors)


@contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[int]:
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    try:
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: `make bench` installs it as root (apt-get install wrk)")

    ports = {name: _free_port() for name in ("cached", "uncached", "baseline", "peer")}
    peer_python = _peer_venv()
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    with tempfile.TemporaryDirectory(prefix="dreamer-bench-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
        env.update(DREAMER_HOME=home, WORKERS=str(args.workers), LOG_LEVEL="WARNING")
        env.update(RUN_WORKER="false", PORT=str(ports["cached"]), SECRET_KEY=secrets.token_hex(32))
        env.update(dict.fromkeys(LIMITS, UNLIMITED), CHAT_QUOTAS=CHAT_QUOTAS)
        dreamer = [sys.executable, "-m", "dreamer.cli"]
        print(f"generating the data set (scale {SCALE}) …", flush=True)
        subprocess.run([*dreamer, "bench", "generate", "--scale", SCALE], env=env, check=True)
        subprocess.run([*dreamer, "seed", "--demo"], env=env, check=True)  # pages, case studies
        uvicorn = [sys.executable, "-m", "uvicorn", "--workers", str(args.workers)]
        uvicorn += ["--log-level", "warning", "--no-server-header", "--no-access-log"]
        with _process([*dreamer, "serve"], env, Path(home) / "dreamer.log") as serve_pid:
            _wait_ready(f"{urls['cached']}/readyz")
            roles = {role: _role_url(env, role) for role in ("app", "owner", "auth")}
            uncached_env = dict(
                env,
                DATABASE_URL=roles["app"],
                DATABASE_OWNER_URL=roles["owner"],
                DATABASE_AUTH_URL=roles["auth"],
                PUBLIC_CACHE="false",
            )
            uncached = [*uvicorn, "--factory", "dreamer.app:create_app"]
            baseline = [*uvicorn, "bench.baseline:app"]
            base_env = dict(
                env, BASELINE_DATABASE_URL=roles["owner"], BASELINE_SECRET=env["SECRET_KEY"]
            )
            peer_env = dict(
                env,
                PEER_DATABASE_URL=roles["owner"],
                PEER_SECRET=env["SECRET_KEY"],
                PYTHONPATH=str(ROOT),
            )
            # gunicorn's documented worker count: (2 x cores) + 1 synchronous workers
            peer = [str(peer_python), "-m", "gunicorn", "bench.peer.wsgi:application"]
            peer += ["--workers", str(2 * (os.cpu_count() or 1) + 1), "--log-level", "warning"]
            with (
                _process(
                    [*uncached, "--port", str(ports["uncached"])],
                    uncached_env,
                    Path(home) / "uncached.log",
                ),
                _process(
                    [*baseline, "--port", str(ports["baseline"])],
                    base_env,
                    Path(home) / "baseline.log",
                ),
                _process(
                    [*peer, "--bind", f"127.0.0.1:{ports['peer']}"],
                    peer_env,
                    Path(home) / "peer.log",
                ),
            ):
                _wait_ready(f"{urls['uncached']}/readyz")
                _wait_ready(f"{urls['baseline']}/healthz")
                _wait_ready(f"{urls['peer']}/api/v1/services")
                email = asyncio.run(_busiest_client(roles["owner"]))
                token = _login(urls["cached"], email)
                results = _run(args, urls, token, _conversations(urls["cached"]))
                memory = _worker_rss_mb(serve_pid)  # after the reads and the lead capture
                logins = _logins(args, urls["cached"], email)
                memory_at_logins = _worker_rss_mb(serve_pid)  # each hash holds 64 MiB
                time.sleep(5)  # steady state: the hashes' memory goes back to the system
                memory_after = _worker_rss_mb(serve_pid)
                pgbench = _pgbench(args, env)
    _report(args, results, (memory, memory_at_logins, memory_after), logins, pgbench)


PEER_PACKAGES = (
    "django>=5.2,<6",
    "djangorestframework>=3.15,<4",
    "gunicorn>=23,<24",
    "psycopg[binary]>=3.2,<4",
    "pyjwt>=2.9,<3",
)


def _peer_venv() -> Path:
    """The DRF peer's own virtualenv (bench/.peer-venv), made on first use."""
    venv = ROOT / "bench" / ".peer-venv"
    python = venv / "bin" / "python"
    marker = venv / "installed"
    if not marker.exists() or marker.read_text() != "\n".join(PEER_PACKAGES):
        print("installing the DRF peer (bench/.peer-venv) …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, *PEER_PACKAGES], check=True)
        marker.write_text("\n".join(PEER_PACKAGES))
    return python


async def _busiest_client(owner_url: str) -> str:
    """The generated client with the most bookings (the own-bookings read lists 20 of them)."""
    conn = await asyncpg.connect(owner_url)
    try:
        email: str = await conn.fetchval(
            "select u.email from users u join service_bookings b on b.user_id = u.id"
            " where u.role = 'client' and u.status = 'active' and u.email like $1"
            " group by u.email order by count(*) desc limit 1",
            f"%@{EMAIL_DOMAIN}",
        )
    finally:
        await conn.close()
    return email


def _login(base: str, email: str) -> str:
    response = httpx.post(
        f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


def _logins(args: argparse.Namespace, base: str, email: str) -> Load:
    """Logins at the production Argon2id parameters: bounded by the hashing, by design."""
    script = LOGIN_LUA % (email, PASSWORD)
    return wrk(f"{base}/api/v1/auth/login", args.seconds * 2, 4, lua=script, timeout=10)


def _pgbench(args: argparse.Namespace, env: dict[str, str]) -> float:
    """pgbench's select-only transactions per second on the same server: what PostgreSQL
    itself answers here, with no HTTP at all."""
    from dreamer.core.config import Settings
    from dreamer.db.embedded import SUPERUSER
    from dreamer.db.runtime import embedded_server

    server = embedded_server(Settings(_env_file=None, dreamer_home=Path(env["DREAMER_HOME"])))
    url = server.url(SUPERUSER, "postgres")
    asyncio.run(_create_database(url, "pgbench"))
    pgbench = str(server.bindir / "pgbench")
    target = server.url(SUPERUSER, "pgbench")
    subprocess.run([pgbench, "-i", "-q", "-s", "10", target], check=True, capture_output=True)
    out = subprocess.run(
        [pgbench, "-S", "-c", str(args.connections), "-j", "2", "-T", str(args.seconds), target],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"tps = ([\d.]+)", out)
    if match is None:
        raise SystemExit(f"cannot read pgbench output:\n{out}")
    return float(match.group(1))


async def _create_database(url: str, name: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found += [child, *_children(child)]
    return found


def _worker_rss_mb(serve_pid: int) -> dict[str, float]:
    """Resident memory of `dreamer serve`'s uvicorn worker processes after the load (MB)."""
    rss = {}
    for pid in _children(serve_pid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "spawn_main" not in command:  # uvicorn's workers (not the resource tracker)
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match:
            rss[str(pid)] = round(int(match.group(1)) / 1024, 1)
    return rss


def _role_url(env: dict[str, str], role: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "dreamer.cli", "db", "url", "--role", role],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def _conversations(base: str) -> str:
    """A conversation for each of ``VISITORS`` anonymous visitors, as a Lua table of
    ``{visitor id, conversation id}`` for ``CHAT_LUA``."""
    pairs = []
    for _ in range(VISITORS):
        visitor = secrets.token_hex(16)
        response = httpx.post(
            f"{base}/api/v1/chat/conversations",
            json={},
            headers={"X-Visitor-Id": visitor},
            timeout=30,
        )
        response.raise_for_status()
        pairs.append(f'{{"{visitor}", "{response.json()["data"]["id"]}"}}')
    return ", ".join(pairs)


def _run(
    args: argparse.Namespace, urls: dict[str, str], token: str, conversations: str
) -> dict[str, dict[str, Load]]:
    print(
        f"wrk: {args.connections} connections, {args.seconds}s, best of {args.rounds} rounds;"
        f" {args.workers} workers each; {os.cpu_count()} cores shared with the load generator"
    )
    warm = ("/api/v1/services", f"/api/v1/services/{SLUG}", "/healthz", "/api/v1/pages/about")
    for path in (*warm, "/api/v1/case-studies"):  # warm all up
        for name, url in urls.items():
            if name != "peer" or path != "/healthz":
                wrk(f"{url}{path}", 1, args.connections)
    bearer = {"Authorization": f"Bearer {token}"}
    best: dict[str, dict[str, Load]] = {}
    for _ in range(args.rounds):
        for scenario in SCENARIOS:
            headers = bearer if scenario.signed_in else None
            lua = scenario.lua and scenario.lua.replace("$CONVERSATIONS", conversations)
            sides = [
                ("dreamer", f"{urls[scenario.which]}{scenario.path}", lua),
                ("baseline", f"{urls['baseline']}{scenario.baseline_path}", None),
            ]
            if scenario.peer_target is not None:
                sides.append(("peer", f"{urls['peer']}{scenario.path}", None))
            for side, url, lua in sides:
                load = wrk(url, args.seconds, args.connections, headers=headers, lua=lua)
                kept = best.setdefault(scenario.name, {}).get(side)
                if kept is None or load.requests_per_second > kept.requests_per_second:
                    best[scenario.name][side] = load
    return best


def _report(
    args: argparse.Namespace,
    results: dict[str, dict[str, Load]],
    memory: tuple[dict[str, float], dict[str, float], dict[str, float]],
    logins: Load,
    pgbench: float,
) -> None:
    header = f"{'scenario':27} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
    print(f"{header} {'baseline':>9} {'ratio':>6} {'target':>9} {'peer':>7} {'x peer':>6} target")
    rows: list[dict[str, object]] = []
    for scenario in SCENARIOS:
        name, target = scenario.name, scenario.target
        ours, theirs = results[name]["dreamer"], results[name]["baseline"]
        ratio = ours.requests_per_second / theirs.requests_per_second
        verdict = "report" if target is None else f"≥{target} {'ok' if ratio >= target else 'MISS'}"
        line = (
            f"{name:27} {ours.requests_per_second:8.0f} {ours.p50_ms:7.2f} {ours.p99_ms:7.2f}"
            f" {ours.errors:6d} {theirs.requests_per_second:9.0f} {ratio:6.2f} {verdict:>9}"
        )
        row: dict[str, object] = {
            "scenario": name,
            "dreamer": asdict(ours),
            "baseline": asdict(theirs),
            "ratio": round(ratio, 3),
            "target": target,
        }
        if scenario.peer_target is not None:
            peer = results[name]["peer"]
            over = ours.requests_per_second / peer.requests_per_second
            good = "ok" if over >= scenario.peer_target else "MISS"
            line += f" {peer.requests_per_second:7.0f} {over:6.2f} ≥{scenario.peer_target:g} {good}"
            row |= {"peer": asdict(peer), "ratio_to_peer": round(over, 3)}
            row["peer_target"] = scenario.peer_target
        print(line)
        rows.append(row)
    per_core = logins.requests_per_second / min(args.workers, os.cpu_count() or 1)
    print(
        f"login at the production Argon2id parameters: {logins.requests_per_second:.1f}/s,"
        f" {per_core:.1f}/s per core, p50 {logins.p50_ms:.0f} ms, {logins.errors} errors"
    )
    print(f"pgbench select-only on the same server: {pgbench:,.0f} transactions/s")
    moments = (
        "after the load",
        "at the end of the logins (Argon2id holds 64 MiB a hash)",
        "5 s later (steady state)",
    )
    for when, rss in zip(moments, memory, strict=True):
        shown = ", ".join(f"{mb:.0f} MB" for mb in rss.values()) or "not found"
        print(f"RSS of each Dreamer worker {when}: {shown} (target < 200 MB)")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "date": stamp,
        "machine": {"cores": os.cpu_count(), "platform": platform.platform()},
        "settings": vars(args),
        "results": rows,
        "worker_rss_mb": memory[0],
        "worker_rss_mb_at_logins": memory[1],
        "worker_rss_mb_steady": memory[2],
        "login": asdict(logins) | {"per_core": round(per_core, 2)},
        "pgbench_select_only_tps": pgbench,
    }
    path = RESULTS / f"read-path-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
