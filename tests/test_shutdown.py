"""A stop is prompt: a client holding a request open cannot keep the server from stopping.

Every stage of the shutdown (open connections, the ASGI lifespan's pools and listener, the
mail worker's running jobs) is bounded by SHUTDOWN_SECONDS; the harness kills a server that
has not stopped within four times that and fails the test with its log."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx

from dreamer.core.config import SHUTDOWN_SECONDS, Settings
from tests.harness import run_dreamer_serve


def test_a_request_left_open_does_not_hold_up_the_stop(settings: Settings) -> None:
    with run_dreamer_serve(settings, RUN_WORKER="true") as base:
        address = urlsplit(base)
        stalled = []
        for _ in range(2):  # both workers, most likely; a body promised and never sent
            conn = socket.create_connection((address.hostname, address.port))
            conn.sendall(
                b"POST /api/v1/contact HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100000\r\n\r\n{"name": "Ada"'
            )
            stalled.append(conn)
        half = socket.create_connection((address.hostname, address.port))
        half.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        stalled.append(half)
        assert httpx.get(f"{base}/healthz").status_code == 200  # still serving others
        started = time.monotonic()
    took = time.monotonic() - started
    for conn in stalled:
        conn.close()
    # the graceful part ends after SHUTDOWN_SECONDS; what follows is closing pools
    assert took < SHUTDOWN_SECONDS * 4
