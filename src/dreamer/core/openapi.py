"""The OpenAPI document: every API operation also documents its RFC 7807 problem answers.

FastAPI documents a 422 ``HTTPValidationError`` that this API never sends; here each operation
under ``/api/`` lists the problem statuses it can answer with instead, as
``application/problem+json`` bodies of the ``Problem`` schema, so clients (and the conformance
tests) can rely on the documented shapes of errors as much as of successes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from dreamer.core.errors import PROBLEM_JSON

PROBLEM_STATUSES = {
    400: "Malformed request (bad JSON, a bad cursor, an invalid link)",
    401: "Not signed in, or the token is invalid or expired",
    403: "Signed in, but not allowed",
    404: "No such resource (or not yours)",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Invalid input; `errors` lists the fields",
    429: "Too many requests; see `Retry-After`",
    503: "Temporarily unavailable; see `Retry-After`",
}


class FieldError(BaseModel):
    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 7807 problem (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["/problems/not-found"])
    title: str
    status: int
    detail: str
    error: str = Field(description="The same as `detail`, for clients of the original backend")
    instance: str | None = None
    request_id: str | None = Field(default=None, alias="requestId")
    errors: list[FieldError] | None = None


def _problem_response(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {PROBLEM_JSON: {"schema": schema}}}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(
        by_alias=True, ref_template="#/components/schemas/{model}"
    )
    components.update(components["Problem"].pop("$defs", {}))
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]  # FastAPI's own; ours is a problem (or a page)
            statuses = PROBLEM_STATUSES if path.startswith("/api/") else {503: "Not available"}
            for status, description in statuses.items():
                responses.setdefault(str(status), _problem_response(description))
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
