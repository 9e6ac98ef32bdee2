"""The conformance checker itself: it must catch a wrong body and an undocumented status."""

from __future__ import annotations

import httpx

from dreamer.app import create_app
from dreamer.core.config import Settings
from tests.conformance import Conformance


def _checker() -> Conformance:
    return Conformance(
        create_app(
            Settings(database_url="postgresql://x@/y", database_auth_url="postgresql://x@/y")
        ).openapi()
    )


def test_a_body_missing_documented_fields_is_caught() -> None:
    bad = httpx.Response(200, json={"success": True, "data": [{"id": "x"}], "meta": {}})
    problems = _checker().problems("GET", "/api/v1/services", bad)
    assert any("'slug' is a required property" in p for p in problems)


def test_problems_are_documented_on_every_api_operation() -> None:
    checker = _checker()
    body = b'{"type":"/problems/not-found","title":"Not found","status":404,"detail":"x"}'
    problem = httpx.Response(
        404, headers={"content-type": "application/problem+json"}, content=body
    )
    assert checker.problems("GET", "/api/v1/services/{slug}", problem) == []
    for path, operations in checker.spec["paths"].items():
        for operation in operations.values():
            if path.startswith("/api/"):
                assert {"401", "404", "422", "429"} <= set(operation["responses"]), path


def test_an_undocumented_status_or_media_type_is_caught() -> None:
    checker = _checker()
    teapot = httpx.Response(418, json={})
    assert "does not document" in checker.problems("GET", "/api/v1/services", teapot)[0]
    as_text = httpx.Response(200, text="hello")
    assert "text/plain is not documented" in checker.problems("GET", "/api/v1/services", as_text)[0]
