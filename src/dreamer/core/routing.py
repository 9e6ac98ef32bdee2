"""Plain routes for the hottest reads: the common request without FastAPI's machinery.

FastAPI matches a request against its routes one by one (an included router twice per level),
solves the endpoint's dependencies and validates its parameters: about a third of a
millisecond, more than the query of a hot read costs. A ``PlainRoute`` sits before every
FastAPI route and serves the plain request of a documented GET (no query string, path values
within bounds) by calling the same endpoint function with its defaults. Any other request of
the path (one with parameters to validate, another method) does not match it and goes on to
the FastAPI route, which also documents the operation: one implementation, one contract, and
the response-conformance test covers both ways in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

Endpoint = Callable[[Request], Awaitable[Response]]


class PlainRoute(Route):
    def __init__(self, path: str, endpoint: Endpoint, *, max_param_length: int = 200) -> None:
        super().__init__(path, endpoint, methods=["GET"])
        self.methods = {"GET"}  # not HEAD: the FastAPI route (GET only) decides what else
        self.max_param_length = max_param_length

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("query_string") or scope.get("method") != "GET":
            return Match.NONE, {}
        match, child = super().matches(scope)
        values = child.get("path_params", {}).values()
        if match is Match.FULL and any(len(str(v)) > self.max_param_length for v in values):
            return Match.NONE, {}  # out of bounds: FastAPI's validation answers (422)
        return match, child


class PageSlugConvertor(Convertor[str]):
    """A page slug, sections allowed (``blog/launch``), that does not start with a UUID
    segment: ``/pages/<uuid>/revisions`` is a staff route, never a page."""

    regex = (
        r"(?![0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:/|$))"
        r"[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*"
    )

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("pageslug", PageSlugConvertor())
