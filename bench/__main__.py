"""Throughput of the API's read path, as ratios against baselines measured in the same run.

Starts ``dreamer serve`` on a throwaway embedded database (in a temporary DREAMER_HOME), then
loads three endpoints for the same duration with the same concurrency:

- ``/healthz``: the HTTP stack without the database (the ceiling of this machine right now);
- ``/api/v1/services/{slug}``: one row through router → service → repository under RLS;
- ``/api/v1/services``: the paginated list (two queries).

Load comes from ``wrk`` when installed (``apt-get install wrk``), else from a small asyncio
client in this process (which then competes for the same cores; the ratios remain comparable
within a run, not across tools). Usage: ``make bench`` or
``python -m bench [--seconds 10] [--connections 32] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the service did not become ready")


def _wrk(url: str, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise SystemExit(f"cannot read wrk output:\n{out}")
    return float(match.group(1))


async def _python_load(url: str, seconds: int, connections: int) -> float:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    done = 0
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                response = await client.get(url)
                if response.status_code == 200:
                    done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return done / (time.monotonic() - started)


def measure(url: str, seconds: int, connections: int) -> float:
    if shutil.which("wrk"):
        return _wrk(url, seconds, connections)
    return asyncio.run(_python_load(url, seconds, connections))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="dreamer-bench-") as home:
        env = {
            k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_OWNER_URL")
        }
        env.update(
            DREAMER_HOME=home, PORT=str(port), WORKERS=str(args.workers), LOG_LEVEL="WARNING"
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "dreamer.cli", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_ready(base)
            tool = "wrk" if shutil.which("wrk") else "python asyncio client"
            print(
                f"load: {tool}, {args.connections} connections, {args.seconds}s each, "
                f"{args.workers} workers"
            )
            measure(f"{base}/api/v1/services", 2, args.connections)  # warm-up
            results = {
                "healthz (baseline, no DB)": measure(
                    f"{base}/healthz", args.seconds, args.connections
                ),
                "GET /services/{slug}": measure(
                    f"{base}/api/v1/services/ai-strategy-consultation",
                    args.seconds,
                    args.connections,
                ),
                "GET /services": measure(f"{base}/api/v1/services", args.seconds, args.connections),
            }
        finally:
            server.terminate()
            server.wait(timeout=30)
    baseline = results["healthz (baseline, no DB)"]
    print(f"{'scenario':32} {'req/s':>10} {'ratio to baseline':>18}")
    for name, rate in results.items():
        print(f"{name:32} {rate:10.0f} {rate / baseline:18.2f}")


if __name__ == "__main__":
    main()
