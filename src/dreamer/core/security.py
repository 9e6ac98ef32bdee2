"""Password hashing and access tokens.

Argon2id (argon2-cffi) for every new hash: no 72-byte truncation, memory-hard. Hashes from the
original system are pgcrypto bcrypt (``$2a$``/``$2b$``); they verify here and ``needs_rehash``
tells the caller to replace them with Argon2id at the next successful login. bcrypt refuses
inputs over 72 bytes (it would truncate): such a password can never match a legacy hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import Type

_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
JWT_ALGORITHM = "HS256"
JWT_ISSUER = "dreamer"
JWT_AUDIENCE = "dreamer-api"


@dataclass(frozen=True)
class Argon2Params:
    time_cost: int = 3
    memory_cost: int = 65_536  # KiB
    parallelism: int = 2


class Passwords:
    def __init__(self, params: Argon2Params = Argon2Params()) -> None:
        self.params = params
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            type=Type.ID,
        )
        # A real hash to verify against when the account does not exist, so an unknown email
        # costs the same time as a wrong password.
        self._dummy = self._hasher.hash(secrets.token_hex(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        if stored is None:
            self._burn(password)
            return False
        if stored.startswith(_BCRYPT_PREFIXES):
            encoded = password.encode()
            if len(encoded) > 72:
                return False
            try:
                return bcrypt.checkpw(encoded, stored.encode())
            except ValueError:
                return False
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def _burn(self, password: str) -> None:
        with contextlib.suppress(VerificationError):
            self._hasher.verify(self._dummy, password)

    def needs_rehash(self, stored: str) -> bool:
        return stored.startswith(_BCRYPT_PREFIXES) or self._hasher.check_needs_rehash(stored)


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """What the database stores instead of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    role: str
    session_id: uuid.UUID | None
    expires_at: datetime


class InvalidToken(Exception):
    pass


def encode_access_token(
    secret: str,
    *,
    user_id: uuid.UUID,
    role: str,
    session_id: uuid.UUID | None,
    ttl: timedelta,
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "role": role,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "iss": JWT_ISSUER,
        "aud": JWT_AUDIENCE,
        "jti": uuid.uuid4().hex,
    }
    if session_id is not None:
        payload["sid"] = str(session_id)
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def decode_access_token(secret: str, token: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            issuer=JWT_ISSUER,
            options={"require": ["sub", "exp", "iat", "role"]},
        )
        sid = payload.get("sid")
        return AccessClaims(
            user_id=uuid.UUID(payload["sub"]),
            role=str(payload["role"]),
            session_id=uuid.UUID(sid) if sid else None,
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise InvalidToken(str(exc)) from exc
