"""The browser cookies of cookie mode and their CSRF double-submit check (HTTP-level, no domain)."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from dreamer.core.errors import Forbidden

ACCESS_COOKIE = "dreamer_at"
REFRESH_COOKIE = "dreamer_rt"
CSRF_COOKIE = "dreamer_csrf"
CSRF_HEADER = "x-csrf-token"
REFRESH_COOKIE_PATH = "/api/v1/auth"
DEVICE_COOKIE = "dreamer_device"
DEVICE_COOKIE_MAX_AGE = 180 * 24 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_csrf(request: Request, expected: str | None = None) -> None:
    """A cookie-authenticated state change must echo the CSRF cookie in X-CSRF-Token; with
    ``expected`` (the session's own value) the cookie must also be that one."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie, header):
        raise Forbidden("Missing or wrong X-CSRF-Token for a cookie-authenticated request")
    if expected is not None and not hmac.compare_digest(cookie, expected):
        raise Forbidden("The CSRF token does not belong to this session; sign in again")
