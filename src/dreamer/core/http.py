"""Per-request facts every layer needs: request id, client IP, user agent, visitor id.

A pure ASGI middleware (cheaper than BaseHTTPMiddleware) that also refuses oversized bodies with
413 before the app reads them. Client IPs come from ``X-Forwarded-For`` only when the direct
peer is a configured trusted proxy; the right-most address not itself trusted is the client.
Anonymous visitors are told apart by ``X-Visitor-Id`` (API clients) or a random 128-bit
``dreamer_vid`` cookie the service sets (browsers), HttpOnly and SameSite=Lax. The same layer
adds the security headers and hands a request that names an ``Origin`` to Starlette's CORS
middleware (any other only gets ``Vary: Origin``).
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import re
from functools import lru_cache
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dreamer.core.errors import PayloadTooLarge, problem_response

VISITOR_COOKIE = "dreamer_vid"
VISITOR_HEADER = b"x-visitor-id"
VISITOR_MAX_AGE = 365 * 24 * 3600
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_VISITOR_ID = re.compile(r"^[0-9a-f]{32}$")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientInfo:
    """What the middleware learnt about the caller. The visitor id is the one the caller sent
    (header or cookie) or, when it sent none, one minted on first use: only a response whose
    request needed an identity (a database context, the chat, analytics) sets the cookie, so a
    health probe or a cached public read answers without ``Set-Cookie`` and a CDN may keep it."""

    __slots__ = ("_visitor_id", "ip", "minted", "request_id", "user_agent")

    def __init__(
        self,
        request_id: str,
        ip: str | None,
        user_agent: str | None,
        visitor_id: str | None = None,
    ) -> None:
        self.request_id = request_id
        self.ip = ip
        self.user_agent = user_agent
        self._visitor_id = visitor_id
        self.minted = False  # a new visitor id was handed out: the response sets the cookie

    @property
    def visitor_id(self) -> str:
        if self._visitor_id is None:
            self._visitor_id, self.minted = os.urandom(16).hex(), True
        return self._visitor_id


_ID_PREFIX = os.urandom(8).hex()  # this process's; with the counter below, unique per request
_ID_COUNTER = itertools.count()


def new_request_id() -> str:
    """32 hex digits: a random per-process prefix and a counter (no system call per request).
    Request ids correlate log lines; they are not secrets (the visitor id is, and stays random)."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFFFFFFFFFF:016x}"


def normalise_visitor_id(raw: str | None) -> str | None:
    """Accept a UUID in any common spelling; return 32 lowercase hex digits or None."""
    if not raw:
        return None
    candidate = raw.strip().lower().replace("-", "")
    return candidate if _VISITOR_ID.match(candidate) else None


def parse_networks(entries: list[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


@lru_cache(maxsize=4096)  # peers and proxies repeat; parsing an address is not free
def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str | None:
    ip = _valid_ip(peer) if peer else None
    if ip is None or not trusted or not forwarded_for:
        return ip

    def is_trusted(addr: str) -> bool:
        parsed = ipaddress.ip_address(addr)
        return any(parsed in net for net in trusted)

    if not is_trusted(ip):
        return ip
    for hop in reversed(forwarded_for.split(",")):
        hop_ip = _valid_ip(hop)
        if hop_ip is None:
            return ip  # a malformed hop: stop trusting the chain
        ip = hop_ip
        if not is_trusted(hop_ip):
            break
    return ip


UPLOADS = ("/import", "/clone-voice")  # paths whose bodies may reach MAX_IMPORT_BYTES


class RequestInfoMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted_proxies: tuple[Network, ...] = (),
        max_body_bytes: int = 1_048_576,
        max_import_bytes: int = 32 * 1_048_576,
        cookie_secure: bool = False,
        cors: dict[str, Any] | None = None,
    ) -> None:
        self.app = app
        # CORS runs only for a request that names an Origin; any other gets `Vary: Origin`
        # with the headers below (one layer and one header scan fewer per request)
        self.cors: ASGIApp | None = CORSMiddleware(app, **cors) if cors is not None else None
        self.trusted = trusted_proxies
        self.max_body = max_body_bytes
        self.max_import = max_import_bytes
        self.cookie_secure = cookie_secure
        attributes = f"; Path=/; Max-Age={VISITOR_MAX_AGE}; HttpOnly; SameSite=Lax"
        self._cookie_attributes = (attributes + ("; Secure" if cookie_secure else "")).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))  # ASGI header names are lowercase already
        # only the headers a request sends are decoded (most send none of these but the agent)
        raw = headers.get(b"x-request-id")
        request_id = raw.decode("latin-1") if raw else ""
        if not (request_id and _REQUEST_ID.match(request_id)):
            request_id = new_request_id()
        raw = headers.get(VISITOR_HEADER)
        visitor = normalise_visitor_id(raw.decode("latin-1")) if raw else None
        if visitor is None and (raw := headers.get(b"cookie")):
            visitor = normalise_visitor_id(_cookie(raw, VISITOR_COOKIE))
        peer = scope.get("client")
        forwarded, agent = headers.get(b"x-forwarded-for"), headers.get(b"user-agent")
        info = ClientInfo(
            request_id,
            client_ip(
                peer[0] if peer else None,
                forwarded.decode("latin-1") if forwarded else None,
                self.trusted,
            ),
            agent.decode("latin-1")[:1000] if agent else None,
            visitor,
        )
        state = scope.setdefault("state", {})
        state["client"] = info
        state["request_id"] = request_id
        own_id = (b"x-request-id", request_id.encode())
        app = self.app
        vary = False
        if self.cors is not None:
            if b"origin" in headers:
                app = self.cors
            else:
                vary = True

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                # a response that sets one of these itself (a page's stricter policy) keeps it
                # (Starlette's responses name their headers in lowercase)
                if _names_any(headers, _OWN_NAMES):
                    named = {name for name, _ in headers}
                    headers += [h for h in (own_id, *_SECURITY_HEADERS) if h[0] not in named]
                else:
                    headers += (own_id, *_SECURITY_HEADERS)
                if vary:
                    headers.append(_VARY_ORIGIN)
                if info.minted:
                    headers.append((b"set-cookie", self._visitor_cookie(info.visitor_id)))
                message["headers"] = headers
            await send(message)

        # Uploads (CSV imports, a voice sample) may be larger than any other body.
        limit = self.max_import if scope.get("path", "").endswith(UPLOADS) else self.max_body
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._too_large(scope, receive, send_with_headers, limit)
            return
        if length is None and scope.get("method") in _BODY_METHODS:
            # A chunked body has no length to check up front: read it (up to the limit) here,
            # so an oversized one gets the same 413 as a sized one, then hand it on.
            replay = await self._buffered(receive, limit)
            if replay is None:
                await self._too_large(scope, receive, send_with_headers, limit)
                return
            receive = replay
        if length is None and b"transfer-encoding" not in headers:
            await app(scope, receive, send_with_headers)  # no body: nothing to count
            return
        await app(scope, self._limited(receive, limit), send_with_headers)

    async def _buffered(self, receive: Receive, limit: int) -> Receive | None:
        """The whole body as one message, or None when it is larger than the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; let the app see the disconnect
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                return None
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    def _visitor_cookie(self, visitor: str) -> bytes:
        return f"{VISITOR_COOKIE}={visitor}".encode() + self._cookie_attributes

    def _limited(self, receive: Receive, limit: int) -> Receive:
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(f"The body must be at most {limit} bytes")
            return message

        return wrapped

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        from starlette.requests import Request

        response = problem_response(
            Request(scope, receive),
            413,
            "payload-too-large",
            "Request body too large",
            f"The body must be at most {limit} bytes",
        )
        await response(scope, receive, send)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
_OWN_NAMES = frozenset(name for name, _ in _SECURITY_HEADERS) | {b"x-request-id"}


def _names_any(headers: list[tuple[bytes, bytes]], names: frozenset[bytes]) -> bool:
    for name, _ in headers:  # noqa: SIM110 (a plain loop: twice as fast as any() over a generator)
        if name in names:
            return True
    return False


def _cookie(raw: bytes | None, name: str) -> str | None:
    """The value of cookie ``name`` in a Cookie header (RFC 6265 pairs: ``a=1; b=2``); the
    first one wins, as browsers send the most specific first. Malformed pairs are skipped."""
    if not raw:
        return None
    wanted = name.encode() + b"="
    for pair in raw.split(b";"):
        pair = pair.strip()
        if pair.startswith(wanted):
            value = pair[len(wanted) :].strip(b'"')
            return value.decode("latin-1")
    return None


_VARY_ORIGIN = (b"vary", b"Origin")


class Tally:
    """Counts per (kind, slug), handed over by ``take()`` (which starts again)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}

    def add(self, key: tuple[str, str]) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def take(self) -> dict[tuple[str, str], int]:
        counts, self.counts = self.counts, {}
        return counts


class ViewCounter:
    """Adds to ``tally`` each 200 answer to a GET of a path of ``patterns`` (``(regex with a
    slug group, kind)``). Pure ASGI; any other request passes after one prefix test."""

    def __init__(
        self, app: ASGIApp, tally: Tally, patterns: list[tuple[str, str]], prefix: str
    ) -> None:
        self.app = app
        self.tally = tally
        self.patterns = [(re.compile(p), kind) for p, kind in patterns]
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "GET" or not path.startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        key = next(
            ((kind, m["slug"]) for p, kind in self.patterns if (m := p.fullmatch(path))), None
        )
        if key is None:
            await self.app(scope, receive, send)
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                self.tally.add(key)
            await send(message)

        await self.app(scope, receive, counting)
