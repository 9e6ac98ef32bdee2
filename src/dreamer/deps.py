"""FastAPI dependencies shared by every router: who is asking, the request transaction, and the
process-wide resources (settings, signing key, database, rate limiter) as typed ``Annotated``
dependencies. This module and ``app.py`` are the only readers of ``request.app.state``.

Every dependency is ``async def``: FastAPI runs a plain ``def`` in a worker thread, a hop that
costs more than most of them do (``tests/test_app.py`` keeps it so).
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Annotated, Any, NewType

from fastapi import Depends, Request, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.auth.service import AuthEnv
from dreamer.chat.service import OpenAICompatible
from dreamer.core import signing
from dreamer.core.config import Settings
from dreamer.core.cookies import ACCESS_COOKIE, check_csrf
from dreamer.core.errors import Forbidden, ProviderNotConfigured, Unauthorized
from dreamer.core.http import ClientInfo
from dreamer.core.pages import FormGuard
from dreamer.core.security import InvalidToken, decode_access_token
from dreamer.db.ratelimit import RateLimiter
from dreamer.db.session import ANONYMOUS, Database, RequestContext
from dreamer.demos.service import ElevenLabs
from dreamer.models import UserRole

ROLES = frozenset(role.value for role in UserRole)

SigningKey = NewType("SigningKey", str)
# The credential path's database (role dreamer_auth, a pool of its own).
AuthDatabase = NewType("AuthDatabase", Database)


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _signing_key(request: Request) -> SigningKey:
    return SigningKey(request.app.state.secret_key)


async def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def _auth_database(request: Request) -> AuthDatabase:
    return AuthDatabase(request.app.state.auth_db)


async def _llm(request: Request) -> OpenAICompatible | None:
    llm: OpenAICompatible | None = request.app.state.llm
    return llm


async def voices(request: Request) -> ElevenLabs:
    """ElevenLabs, or an immediate 503 ``provider-not-configured`` (before the body is even
    validated), so the website falls back to its own output at once."""
    configured: ElevenLabs | None = request.app.state.voices
    if configured is None:
        raise ProviderNotConfigured("Voice demos are not configured here (ELEVENLABS_API_KEY)")
    return configured


async def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


async def _auth_env(request: Request) -> AuthEnv:
    env: AuthEnv = request.app.state.auth
    return env


SettingsDep = Annotated[Settings, Depends(_settings)]
SigningKeyDep = Annotated[SigningKey, Depends(_signing_key)]
DatabaseDep = Annotated[Database, Depends(_database)]
AuthDatabaseDep = Annotated[AuthDatabase, Depends(_auth_database)]
LimiterDep = Annotated[RateLimiter, Depends(_limiter)]
# The chat assistant's LLM provider, or None (the built-in assistant).
LlmDep = Annotated[OpenAICompatible | None, Depends(_llm)]
VoicesDep = Annotated[ElevenLabs, Depends(voices)]
AuthEnvDep = Annotated[AuthEnv, Depends(_auth_env)]


def _bearer(request: Request) -> tuple[str, bool] | None:
    """The access token, and whether it came from the cookie (then CSRF rules apply)."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Use 'Authorization: Bearer <access token>'")
        return token.strip(), False
    cookie = request.cookies.get(ACCESS_COOKIE)
    if cookie:
        check_csrf(request)  # cookies ride along on cross-site requests; headers do not
        return cookie, True
    return None


# Declared for the OpenAPI docs ("Authorize" in /docs); the header is parsed below, strictly.
_bearer_docs = HTTPBearer(auto_error=False, description="The accessToken from login/refresh")


async def get_context(
    request: Request,
    key: SigningKeyDep,
    _docs: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_docs)] = None,
) -> RequestContext:
    """The caller as RLS will see them: a signed-in user, or an anonymous visitor."""
    anonymous = anonymous_context(request)
    found = _bearer(request)
    if found is None:
        return anonymous
    token, from_cookie = found
    try:
        claims = decode_access_token(key, token)
    except InvalidToken:
        raise Unauthorized("The access token is invalid or expired") from None
    if from_cookie:
        check_csrf(request, signing.csrf_token(key, claims.session_id))
    if claims.role not in ROLES:
        raise Unauthorized("The access token is invalid or expired")
    return replace(
        anonymous, user_id=claims.user_id, role=claims.role, session_id=claims.session_id
    )


Context = Annotated[RequestContext, Depends(get_context)]
# For routes that resolve the caller themselves (see caller()): documents the bearer scheme.
BEARER_DOCS = Depends(_bearer_docs)


async def caller(request: Request) -> tuple[RequestContext, Database]:
    """The caller and the database, without FastAPI's dependency solving: for the hottest
    public reads, where resolving a tree of small dependencies costs more than the query.
    Exactly what ``Context`` and ``DatabaseDep`` give (same checks, same errors)."""
    ctx = await get_context(request, await _signing_key(request))
    return ctx, await _database(request)


async def settings_of(request: Request) -> Settings:
    """The settings, for the routes that resolve their inputs themselves (see caller())."""
    return await _settings(request)


def anonymous_context(request: Request) -> RequestContext:
    """The caller as an anonymous visitor, whatever credentials it sends: for the pages that
    mailed links open, where the link's token is the only authority."""
    client: ClientInfo = request.state.client
    return RequestContext(
        role=ANONYMOUS,
        visitor_id=client.visitor_id,
        ip=client.ip,
        user_agent=client.user_agent,
        request_id=client.request_id,
    )


async def get_anonymous_context(request: Request) -> RequestContext:
    return anonymous_context(request)


AnonymousContext = Annotated[RequestContext, Depends(get_anonymous_context)]


async def _transaction(db: DatabaseDep, ctx: Context) -> AsyncIterator[AsyncSession]:
    async with db.transaction(ctx) as session:
        yield session


async def _auth_transaction(db: AuthDatabaseDep, ctx: Context) -> AsyncIterator[AsyncSession]:
    async with db.transaction(ctx) as session:
        yield session


async def _anonymous_transaction(
    db: DatabaseDep, ctx: AnonymousContext
) -> AsyncIterator[AsyncSession]:
    async with db.transaction(ctx) as session:
        yield session


async def _anonymous_auth_transaction(
    db: AuthDatabaseDep, ctx: AnonymousContext
) -> AsyncIterator[AsyncSession]:
    async with db.transaction(ctx) as session:
        yield session


# scope="function": the transaction commits (or rolls back) before the response is sent, so a
# failed commit becomes an error response rather than hiding behind a 200.
DbSession = Annotated[AsyncSession, Depends(_transaction, scope="function")]
# The same, as dreamer_auth: only the auth routes that read or write credentials use it.
AuthSession = Annotated[AsyncSession, Depends(_auth_transaction, scope="function")]
# The two as an anonymous visitor (see get_anonymous_context).
AnonymousSession = Annotated[AsyncSession, Depends(_anonymous_transaction, scope="function")]
AnonymousAuthSession = Annotated[
    AsyncSession, Depends(_anonymous_auth_transaction, scope="function")
]


async def _form_guard(settings: SettingsDep, key: SigningKeyDep) -> FormGuard:
    return FormGuard(key, secure=settings.cookie_secure, public_url=settings.public_url)


FormGuardDep = Annotated[FormGuard, Depends(_form_guard)]


async def require_user(ctx: Context) -> RequestContext:
    if not ctx.is_authenticated:
        raise Unauthorized()
    return ctx


async def require_staff(ctx: Context) -> RequestContext:
    if not ctx.is_authenticated:
        raise Unauthorized()
    if not ctx.is_staff:
        raise Forbidden("Staff only")
    return ctx


SignedIn = Annotated[RequestContext, Depends(require_user)]
Staff = Annotated[RequestContext, Depends(require_staff)]

# Whom a limit counts, from the caller and the parsed body; None: this request is not counted.
Subject = Callable[[RequestContext, Any], str | None]


def by_ip(ctx: RequestContext, _body: Any) -> str:
    return ctx.ip or "-"


def by_email(ctx: RequestContext, body: Any) -> str | None:
    """The normalised ``email`` of the request body (an invalid body: not counted)."""
    return None if body is None else str(body.email).strip().lower()


def by_user_or_email(ctx: RequestContext, body: Any) -> str | None:
    """The signed-in account, else the ``email`` the body names (neither: not counted)."""
    if ctx.user_id is not None:
        return f"user:{ctx.user_id}"
    email = getattr(body, "email", None) if body is not None else None
    return str(email).strip().lower() if email else None


def by_user(ctx: RequestContext, _body: Any) -> str | None:
    """The signed-in account (anonymous callers are refused by the route, not counted)."""
    return f"user:{ctx.user_id}" if ctx.user_id is not None else None


def rate_limit(
    scope: str,
    setting: str,
    *,
    subject: Subject = by_ip,
    body: Any = None,
    invalid_cost: float | None = None,
) -> params.Depends:
    """A rate limit declared on the route: ``dependencies=[rate_limit("contact:ip", "…")]``.

    ``setting`` names the ``Settings`` field holding ``"N/seconds"``; ``subject`` picks whom the
    limit counts (the client IP by default). With ``body`` (the route's request model, whose
    parameter must be called ``body`` in the endpoint too, so FastAPI parses it once) the
    subject may read it, and a body that fails validation is refused before it is counted;
    with ``invalid_cost`` as well, such a body is counted at that cost instead (the subject
    then sees ``None`` for the body) and an accepted one at 1, so a person correcting a typo
    spends little of the limit while a client flooding it with junk still runs out.
    The hit is counted in a transaction of its own that ends before the route's own opens, so
    a refused or failing request still counts, and no request holds two pooled connections.
    """
    if setting not in Settings.model_fields:
        raise ValueError(f"rate_limit({scope!r}): Settings has no field {setting!r}")
    if invalid_cost is not None:
        if body is None or not 0 < invalid_cost <= 1:
            raise ValueError(f"rate_limit({scope!r}): invalid_cost needs a body and (0, 1]")
        return _rate_limit_any_body(scope, setting, subject, _adapter(body), invalid_cost)

    async def hit(
        ctx: Context, settings: SettingsDep, limiter: LimiterDep, body: Any = None
    ) -> None:
        key = subject(ctx, body)
        if key is not None:
            await limiter.hit(scope, key, getattr(settings, setting))

    optional = typing.get_origin(body) in (typing.Union, types.UnionType)
    signature = inspect.signature(hit)
    parameters = [
        p.replace(annotation=body, default=None if optional else inspect.Parameter.empty)
        if p.name == "body"
        else p
        for p in signature.parameters.values()
        if p.name != "body" or body is not None
    ]
    hit.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    hit.__name__ = f"rate_limit_{scope.replace(':', '_')}"
    dependency: params.Depends = Depends(hit)
    return dependency


@functools.cache
def _adapter(body: Any) -> TypeAdapter[Any]:
    """One adapter per body type: the limits of a route share it, and its parse (``_body_once``)."""
    return TypeAdapter(body)


async def _body_once(request: Request, model: TypeAdapter[Any]) -> Any:
    """The body as ``model``, or None when it does not validate: parsed once per request
    however many limits of the route price it."""
    parsed: dict[int, Any] = request.scope.setdefault("dreamer.limit_bodies", {})
    if id(model) not in parsed:
        try:
            parsed[id(model)] = model.validate_json(await request.body())
        except ValidationError:
            parsed[id(model)] = None
    return parsed[id(model)]


def _rate_limit_any_body(
    scope: str, setting: str, subject: Subject, model: TypeAdapter[Any], invalid_cost: float
) -> params.Depends:
    """The limit of ``rate_limit(..., invalid_cost=…)``: it takes no body parameter, so FastAPI
    runs it before validating the route's body, and it validates the (already read) body
    itself to price the attempt; the route then answers 422 as usual."""

    async def hit(
        request: Request, ctx: Context, settings: SettingsDep, limiter: LimiterDep
    ) -> None:
        parsed = await _body_once(request, model)
        cost = invalid_cost if parsed is None else 1.0
        key = subject(ctx, parsed)
        if key is not None:
            await limiter.hit(scope, key, getattr(settings, setting), cost)

    hit.__name__ = f"rate_limit_{scope.replace(':', '_')}"
    dependency: params.Depends = Depends(hit)
    return dependency
