"""A per-worker cache of anonymous public reads, correct under change.

Which reads: anonymous ``GET`` requests (no ``Authorization``, no access cookie) to the paths
registered with a *topic* (``/api/v1/services`` and ``/api/v1/services/{slug}`` under
``services``; pages, case studies, testimonials, search, SEO and the sitemap under
``content``). A signed-in caller, staff above all (who see inactive services and drafts), is
never answered from it. What is kept is exactly the response the route gave an anonymous
caller (200 only, no cookies of its own), with a strong ``ETag``; answers from the cache carry
``Cache-Control: public, no-cache`` and ``Vary: Authorization``, so browsers and a CDN may keep
them but revalidate each use (``If-None-Match``, or ``If-Modified-Since`` where the route gave a
``Last-Modified`` → 304). The route itself is always asked without those conditions, so what
is kept is a full answer.

Invalidation: a statement changing a table behind a topic bumps ``cache_topics.version`` in its
transaction and sends ``NOTIFY dreamer_cache, '<topic>:<version>'`` (``db/sql/core.sql``),
delivered at commit. Each worker listens on one dedicated connection; a notification drops the
topic's entries and makes the worker re-read the versions from ``cache_topics`` at once (the
payload is never trusted: any role may notify, only the trigger can write the table). An
entry is stored only if its topic's version did not move
while the route computed it, so a read that raced a change is served once and not kept. Every
second the worker also reads the versions on that connection (``cache_versions()``, which for
``content`` also folds in the last moment a scheduled item went live or an item expired: those
change what is public without any write, and so are seen within that second); if that fails
(the connection or the database is gone) the cache is off, and emptied, until it has
reconnected and re-read them.
A change is therefore visible on every worker within about a second at worst, and at once in
the normal case.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dreamer.core.responses import CONDITIONAL, etag_of, fresh

log = logging.getLogger("dreamer.cache")
CHANNEL = "dreamer_cache"
CHECK_SECONDS = 1.0
MAX_ENTRIES = 2048
MAX_BODY = 512 * 1024
CACHED_HEADERS = (
    (b"cache-control", b"public, no-cache"),
    (b"vary", b"Authorization"),
)
HIT, MISS = (b"x-cache", b"hit"), (b"x-cache", b"miss")
PRIVATE_HEADERS = ((b"cache-control", b"private, no-store"),)
_VERSIONS = "select topic, version from cache_versions()"


@dataclass(frozen=True)
class Entry:
    topic: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes


class PublicReadCache:
    """The entries of one worker process and the listener that keeps them current."""

    def __init__(self, dsn: str, routes: Sequence[tuple[str, str]]) -> None:
        self.dsn = dsn
        # one alternation, one match per request: most paths are not cached reads at all
        self._topics = [topic for _pattern, topic in routes]
        self._routes = re.compile("|".join(f"(?P<t{i}>{p})" for i, (p, _) in enumerate(routes)))
        self.ready = False
        self._versions: dict[str, str] = {}
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        # Misses being computed: later requests for the same key wait for the first one
        # instead of all asking the database (a cold cache under a burst).
        self.inflight: dict[str, asyncio.Future[Entry | None]] = {}
        self._wake = asyncio.Event()
        self.hits = 0

    def topic_for(self, path: str) -> str | None:
        match = self._routes.fullmatch(path)
        return None if match is None else self._topics[int(match.lastgroup[1:])]  # type: ignore[index]

    def get(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            self.hits += 1
        return entry

    def version(self, topic: str) -> str | None:
        return self._versions.get(topic) if self.ready else None

    def put(self, key: str, entry: Entry, version: str | None) -> bool:
        """Keep ``entry`` if its topic's version is still the one it was computed under."""
        if version is None or self.version(entry.topic) != version:
            return False
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
        return True

    def _drop(self, topic: str | None = None) -> None:
        if topic is None:
            self._entries.clear()
            return
        for key in [k for k, e in self._entries.items() if e.topic == topic]:
            del self._entries[key]

    def _learn(self, topic: str, version: str) -> None:
        if self._versions.get(topic) != version:
            self._versions[topic] = version
            self._drop(topic)

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        """A topic changed. The payload is only a hint: any role may ``pg_notify`` on the
        channel, so the version is never taken from it. The topic's entries go, nothing is
        kept for it until its version is read again from ``cache_topics`` (which only the
        trigger writes), and that read happens at once."""
        topic = payload.rpartition(":")[0] or payload
        self._versions.pop(topic, None)
        self._drop(topic)
        self._wake.set()

    def _lost(self, _conn: object) -> None:
        """The listening connection closed (a restart, a failover, a terminated backend):
        until it is back and the versions are read again, nothing is served from here."""
        self.ready = False
        self._drop()

    # -- the listener ---------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="public-read-cache")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._disconnect()

    async def _disconnect(self) -> None:
        self.ready = False
        self._drop()
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await asyncio.wait_for(connection.close(), 2)
            except Exception:
                connection.terminate()

    async def _run(self) -> None:
        delay = 0.2
        while True:
            try:
                connection = await asyncpg.connect(
                    self.dsn, timeout=5, server_settings={"application_name": "dreamer-cache"}
                )
                self._connection = connection
                connection.add_termination_listener(self._lost)
                await connection.add_listener(CHANNEL, self._notified)
                while True:  # listening from here on; the versions are read after that
                    rows = await asyncio.wait_for(connection.fetch(_VERSIONS), CHECK_SECONDS * 3)
                    for row in rows:
                        self._learn(row["topic"], row["version"])
                    if not self.ready:
                        self.ready = True
                        delay = 0.2
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), CHECK_SECONDS)
                    self._wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.ready or delay == 0.2:
                    log.warning("public-read cache off until the database is back: %r", exc)
                await self._disconnect()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


def _credentials(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"authorization" or (name == b"cookie" and b"dreamer_at=" in value):
            return True
    return False


class PublicCacheMiddleware:
    """Pure ASGI: answers anonymous public reads from ``cache`` (see the module docstring)."""

    def __init__(self, app: ASGIApp, cache: PublicReadCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        topic = self.cache.topic_for(scope["path"])
        if topic is None:
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if _credentials(headers):
            await self.app(scope, receive, _with_headers(send, PRIVATE_HEADERS))
            return
        key = f"{scope['path']}?{scope['query_string'].decode('latin-1')}"
        entry = self.cache.get(key)
        if entry is not None:
            await _answer(send, entry, headers, HIT)
            return
        pending = self.cache.inflight.get(key)
        if pending is not None:
            shared = await asyncio.shield(pending)
            if shared is not None:  # computed, and still current when it was done
                await _answer(send, shared, headers, HIT)
                return
        version = self.cache.version(topic)
        mine: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
        if pending is None and version is not None:
            self.cache.inflight[key] = mine
        kept, entry = False, None
        try:
            entry = await self._compute(scope, receive, send, topic)
            if entry is None:
                return  # not cacheable: already sent as it came
            kept = self.cache.put(key, entry, version)
        finally:
            if self.cache.inflight.get(key) is mine:
                del self.cache.inflight[key]
            mine.set_result(entry if kept else None)
        await _answer(send, entry, headers, MISS)

    async def _compute(
        self, scope: Scope, receive: Receive, send: Send, topic: str
    ) -> Entry | None:
        """Run the route; its response as an entry, or None when it was passed on uncached."""
        start: Message | None = None
        chunks: list[bytes] = []
        passed = False

        async def capture(message: Message) -> None:
            nonlocal start, passed
            if passed:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                status = message["status"]
                if status != 200 or any(n == b"set-cookie" for n, _ in message["headers"]):
                    passed = True
                    await send(message)
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if sum(map(len, chunks)) > MAX_BODY:
                    passed = True
                    assert start is not None
                    await send(start)
                    await send({**message, "body": b"".join(chunks)})

        # The route answers in full (no 304 of its own): what is kept serves every client.
        plain = [(n, v) for n, v in scope["headers"] if n not in CONDITIONAL]
        await self.app({**scope, "headers": plain}, receive, capture)
        if passed or start is None:
            return None
        body = b"".join(chunks)
        own = [(n, v) for n, v in start["headers"] if n not in (b"content-length", b"etag")]
        return Entry(topic, 200, own, body, etag_of(body))


async def _answer(
    send: Send,
    entry: Entry,
    request_headers: Sequence[tuple[bytes, bytes]],
    outcome: tuple[bytes, bytes],
) -> None:
    headers = [*entry.headers, (b"etag", entry.etag), *CACHED_HEADERS, outcome]
    modified = next((v for n, v in entry.headers if n == b"last-modified"), None)
    if fresh(request_headers, entry.etag, modified):
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    headers.append((b"content-length", str(len(entry.body)).encode()))
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": entry.body})


def _with_headers(send: Send, extra: Sequence[tuple[bytes, bytes]]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped
