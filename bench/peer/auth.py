"""The peer's authentication: the API's bearer token, verified with the same secret."""

from __future__ import annotations

import os
from typing import Any

import jwt
from rest_framework import authentication, exceptions


class Caller:
    is_authenticated = True

    def __init__(self, user_id: str) -> None:
        self.id = user_id


class BearerAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[Caller, str] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer "):
            return None
        try:
            claims = jwt.decode(
                header[7:],
                os.environ["PEER_SECRET"],
                algorithms=["HS256"],
                audience="dreamer-api",
                issuer="dreamer",
            )
        except jwt.PyJWTError:
            raise exceptions.AuthenticationFailed("invalid token") from None
        return Caller(claims["sub"]), header[7:]
