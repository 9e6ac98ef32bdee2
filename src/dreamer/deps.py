"""FastAPI dependencies shared by every router: who is asking, and the request transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.auth.tokens import ACCESS_COOKIE, check_csrf
from dreamer.core.errors import Forbidden, Unauthorized
from dreamer.core.http import ClientInfo
from dreamer.core.security import InvalidToken, decode_access_token
from dreamer.db.session import ANONYMOUS, Database, RequestContext

ROLES = frozenset({"visitor", "client", "admin", "super_admin"})


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Use 'Authorization: Bearer <access token>'")
        return token.strip()
    cookie = request.cookies.get(ACCESS_COOKIE)
    if cookie:
        check_csrf(request)  # cookies ride along on cross-site requests; headers do not
    return cookie or None


# Declared for the OpenAPI docs ("Authorize" in /docs); the header is parsed below, strictly.
_bearer_docs = HTTPBearer(auto_error=False, description="The accessToken from login/refresh")


async def get_context(
    request: Request,
    _docs: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_docs)] = None,
) -> RequestContext:
    """The caller as RLS will see them: a signed-in user, or an anonymous visitor."""
    client: ClientInfo = request.state.client
    anonymous = RequestContext(
        role=ANONYMOUS,
        visitor_id=client.visitor_id,
        ip=client.ip,
        user_agent=client.user_agent,
        request_id=client.request_id,
    )
    token = _bearer(request)
    if token is None:
        return anonymous
    try:
        claims = decode_access_token(request.app.state.secret_key, token)
    except InvalidToken:
        raise Unauthorized("The access token is invalid or expired") from None
    if claims.role not in ROLES:
        raise Unauthorized("The access token is invalid or expired")
    return replace(
        anonymous, user_id=claims.user_id, role=claims.role, session_id=claims.session_id
    )


Context = Annotated[RequestContext, Depends(get_context)]


async def _transaction(request: Request, ctx: Context) -> AsyncIterator[AsyncSession]:
    db: Database = request.app.state.db
    async with db.transaction(ctx) as session:
        yield session


# scope="function": the transaction commits (or rolls back) before the response is sent, so a
# failed commit becomes an error response rather than hiding behind a 200.
DbSession = Annotated[AsyncSession, Depends(_transaction, scope="function")]


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
