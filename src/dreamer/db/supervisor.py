"""Keep the processes ``dreamer serve`` depends on alive: the embedded PostgreSQL and the worker.

A thread polls each one; when it has exited (a SIGKILL, an OOM kill, a crash), it logs one line
and restarts it, backing off from 0.5 s to 10 s while restarts fail. PostgreSQL's own crash
recovery replays the WAL on the way up (synchronous_commit stays on, so no acknowledged write is
lost); the API answers 503 with ``Retry-After`` meanwhile and its pools reconnect by themselves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("dreamer.supervisor")

MIN_BACKOFF = 0.5
MAX_BACKOFF = 10.0


@dataclass
class Watched:
    name: str
    exit_code: Callable[[], int | None]  # None while it runs (and reaps it once it exited)
    restart: Callable[[], None]


class Supervisor(threading.Thread):
    def __init__(self, watched: list[Watched], *, interval: float = 0.5) -> None:
        super().__init__(name="dreamer-supervisor", daemon=True)
        self.watched = watched
        self.interval = interval
        self._stopping = threading.Event()
        self.restarts = 0

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            for item in self.watched:
                code = item.exit_code()
                if code is not None and not self._stopping.is_set():
                    log.warning("%s exited (code %s); restarting it", item.name, code)
                    self._restart(item)

    def _restart(self, item: Watched) -> None:
        backoff = MIN_BACKOFF
        while not self._stopping.is_set():
            try:
                item.restart()
            except Exception as exc:  # keep trying: the service is down until this works
                log.warning(
                    "restarting %s failed (%s); next try in %.1f s", item.name, exc, backoff
                )
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            self.restarts += 1
            log.warning("%s is running again", item.name)
            return
