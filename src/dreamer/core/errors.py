"""RFC 7807 problems: every error leaves the API as ``application/problem+json``.

Services raise ``AppError`` subclasses; database errors that reach the edge are translated by
SQLSTATE (a unique or exclusion violation is a 409, a failed CHECK a 422, an RLS refusal a 403),
so even a bug that skips a service-level check produces the right status, never a 500 with a
stack trace. Unexpected exceptions are logged with their traceback and answered with a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from dreamer.core.responses import json_bytes

log = logging.getLogger("dreamer.errors")
PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "/problems/"


class AppError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra or {}
        self.headers = headers or {}


class BadRequest(AppError):
    pass


class InvalidLink(BadRequest):
    """A mailed link (verification, reset, newsletter confirmation) that is used or expired:
    one problem type for all of them."""

    slug, title = "invalid-token", "Invalid or expired token"


class CommitAnyway(Exception):
    """Mixin for an error whose transaction still commits: a failed login's audit entry, or
    the session a reused refresh token revoked, must outlive the error response."""


class Unauthorized(AppError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(AppError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(AppError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(AppError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class ValidationFailed(AppError):
    status, slug, title = 422, "validation-error", "Invalid input"


class RateLimited(AppError):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(AppError):
    status, slug, title = 503, "unavailable", "Service temporarily unavailable"


class ProviderNotConfigured(ServiceUnavailable):
    """An optional external provider (ElevenLabs) has no credentials here: the client should
    fall back at once rather than retry."""

    slug, title = "provider-not-configured", "Provider not configured"


class BadGateway(AppError):
    """An external provider failed or refused; nothing was kept."""

    status, slug, title = 502, "provider-error", "The provider failed"


def problem_response(
    request: Request | None,
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "error": detail,  # compatibility: the original website shows `data.error`
    }
    if request is not None:
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["requestId"] = request_id
    body.update(extra or {})
    return Response(json_bytes(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


# SQLSTATE → (status, slug, title, detail). Details stay generic: constraint names go in "extra".
_SQLSTATE: dict[str, tuple[int, str, str, str]] = {
    "23505": (409, "conflict", "Conflict", "A record with these values already exists"),
    "23P01": (409, "conflict", "Conflict", "This conflicts with an existing record"),
    "23503": (409, "conflict", "Conflict", "A related record is missing or still in use"),
    "23514": (422, "validation-error", "Invalid input", "A value breaks a data rule"),
    "23502": (422, "validation-error", "Invalid input", "A required value is missing"),
    "22001": (422, "validation-error", "Invalid input", "A value is too long"),
    "22P02": (422, "validation-error", "Invalid input", "A value has the wrong format"),
    "22007": (422, "validation-error", "Invalid input", "A date or time is invalid"),
    "22008": (422, "validation-error", "Invalid input", "A date or time is out of range"),
    "22003": (422, "validation-error", "Invalid input", "A number is out of range"),
    "42501": (403, "forbidden", "Not allowed", "You are not allowed to do this"),
    "40001": (409, "retry", "Concurrent update", "Another change got there first; try again"),
    "40P01": (409, "retry", "Concurrent update", "Another change got there first; try again"),
    "57014": (503, "timeout", "Query timed out", "The request took too long; try again"),
}


def sqlstate_of(exc: DBAPIError) -> tuple[str | None, str | None]:
    orig = exc.orig
    cause = getattr(orig, "__cause__", None) or orig
    return getattr(cause, "sqlstate", None), getattr(cause, "constraint_name", None)


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return problem_response(
        request, exc.status, exc.slug, exc.title, exc.detail, extra=exc.extra, headers=exc.headers
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": err.get("msg", "invalid"),
            "type": err.get("type", "invalid"),
        }
        for err in exc.errors()
    ]  # "input" is left out on purpose: it may hold a password
    if any(err["type"] == "json_invalid" for err in errors):
        return problem_response(
            request, 400, "malformed-json", "Malformed JSON", "The body is not valid JSON"
        )
    return problem_response(
        request,
        422,
        "validation-error",
        "Invalid input",
        "Some fields are invalid",
        extra={"errors": errors},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 401: "Authentication required"}
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    title = titles.get(exc.status_code, "HTTP error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem_response(
        request, exc.status_code, slug, title, detail, headers=dict(exc.headers or {})
    )


async def _db_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    sqlstate, constraint = sqlstate_of(exc)
    cause = getattr(exc.orig, "__cause__", None)
    if isinstance(cause, OverflowError | ValueError | TypeError) and sqlstate is None:
        # the driver could not encode a value (a number beyond the column's range, …)
        return problem_response(
            request,
            422,
            "validation-error",
            "Invalid input",
            "A value is out of range or of the wrong type",
        )
    lost = exc.connection_invalidated or sqlstate is None
    return await _by_sqlstate(request, exc, sqlstate, constraint, cause, lost=lost)


async def _raw_db_error(request: Request, exc: Exception) -> Response:
    """The raw asyncpg statements (``db.reader``, ``db.ratelimit``): the same answers as
    through SQLAlchemy. An error without SQLSTATE is a connection that went away."""
    sqlstate = getattr(exc, "sqlstate", None)
    lost = isinstance(exc, asyncpg.InterfaceError | asyncpg.InternalClientError) or not sqlstate
    return await _by_sqlstate(
        request, exc, sqlstate, getattr(exc, "constraint_name", None), exc, lost=lost
    )


async def _by_sqlstate(
    request: Request,
    exc: Exception,
    sqlstate: str | None,
    constraint: str | None,
    cause: object,
    *,
    lost: bool,
) -> Response:
    mapped = _SQLSTATE.get(sqlstate or "") or (
        _SQLSTATE["22P02"] if sqlstate and sqlstate.startswith("22") else None
    )
    if mapped is None:
        if lost or (sqlstate or "").startswith(("08", "53", "57P")):
            # connection lost; out of connections, memory or disk; shutting down or starting
            log.warning("database unavailable: %s", type(cause).__name__)
            return _unavailable(request, "Database unavailable")
        return await _unexpected(request, exc)
    status, slug, title, detail = mapped
    log.info(
        "database refused %s %s: sqlstate %s, constraint %s, column %s",
        request.method,
        request.url.path,
        sqlstate,
        constraint,
        getattr(cause, "column_name", None),
    )
    extra = {"constraint": constraint} if constraint else None
    return problem_response(request, status, slug, title, detail, extra=extra)


async def _unencodable(request: Request, exc: Exception) -> Response:
    """The raw asyncpg reads (``db.reader``): a value the driver cannot send (an integer beyond
    the column's range). A bounded parameter should have refused it first: this is the net."""
    log.info("driver refused a value on %s %s: %s", request.method, request.url.path, exc)
    return problem_response(
        request,
        422,
        "validation-error",
        "Invalid input",
        "A value is out of range or of the wrong type",
    )


def _unavailable(request: Request, title: str, retry_after: int = 5) -> Response:
    return problem_response(
        request,
        503,
        "unavailable",
        title,
        "Try again shortly",
        headers={"Retry-After": str(retry_after)},
    )


async def _pool_exhausted(request: Request, exc: Exception) -> Response:
    # Every pooled connection stayed busy for the whole checkout bound: shed this request now
    # rather than queue it behind the burst (one line, no traceback).
    log.warning("no database connection free for %s %s", request.method, request.url.path)
    return _unavailable(request, "Too busy", retry_after=2)


async def _unreachable(request: Request, exc: Exception) -> Response:
    # The server refused or dropped the connection before a transaction began.
    log.warning("database unreachable: %s", type(exc).__name__)
    return _unavailable(request, "Database unavailable")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request, 500, "internal-error", "Internal error", "Something went wrong on our side"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _db_error)
    app.add_exception_handler(asyncpg.exceptions.DataError, _unencodable)
    app.add_exception_handler(asyncpg.PostgresError, _raw_db_error)
    app.add_exception_handler(asyncpg.InterfaceError, _raw_db_error)
    app.add_exception_handler(asyncpg.InternalClientError, _raw_db_error)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(OSError, _unreachable)  # ConnectionRefusedError and kin
    app.add_exception_handler(Exception, _unexpected)
