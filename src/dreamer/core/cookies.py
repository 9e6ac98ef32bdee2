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
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_csrf(request: Request) -> None:
    """A cookie-authenticated state change must echo the CSRF cookie in X-CSRF-Token."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie, header):
        raise Forbidden("Missing or wrong X-CSRF-Token for a cookie-authenticated request")
