"""Issuing the token pair, and the cookie variant for browsers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from starlette.responses import Response

from dreamer.core.config import Settings
from dreamer.core.cookies import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE, REFRESH_COOKIE_PATH
from dreamer.core.security import encode_access_token, new_token, token_digest
from dreamer.core.signing import csrf_token


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: uuid.UUID


def new_refresh_token() -> tuple[str, str]:
    """A 256-bit refresh token and the SHA-256 digest that is all the database keeps."""
    token = new_token(32)
    return token, token_digest(token)


def issue(
    settings: Settings,
    secret: str,
    user_id: uuid.UUID,
    role: str,
    session_id: uuid.UUID,
    refresh_token: str,
) -> TokenPair:
    ttl = settings.access_token_ttl_seconds
    access = encode_access_token(
        secret, user_id=user_id, role=role, session_id=session_id, ttl=timedelta(seconds=ttl)
    )
    return TokenPair(access, refresh_token, ttl, session_id)


def set_cookies(response: Response, settings: Settings, secret: str, pair: TokenPair) -> None:
    """HttpOnly access and refresh cookies plus a readable CSRF cookie (double submit, its
    value bound to the session)."""
    secure = settings.cookie_secure
    response.set_cookie(
        ACCESS_COOKIE,
        pair.access_token,
        max_age=pair.expires_in,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=settings.session_lifetime_seconds,
        httponly=True,
        secure=secure,
        samesite="strict",
        path=REFRESH_COOKIE_PATH,
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf_token(secret, pair.session_id),
        max_age=settings.session_lifetime_seconds,
        httponly=False,
        secure=secure,
        samesite="strict",
        path="/",
    )


def clear_cookies(response: Response) -> None:
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH)
    response.delete_cookie(CSRF_COOKIE, path="/")
