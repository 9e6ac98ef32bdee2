"""Responses checked against the OpenAPI document the app publishes (JSON Schema 2020-12).

``response_model`` on a route is what clients read in /docs; handlers build their bodies
directly (orjson, no second validation), so this is what keeps the two in step. Every status a
route answers must be documented, and its body must match the documented schema.
"""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:dreamer:openapi"
JSON_MEDIA = frozenset({"application/json", "application/problem+json"})


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Conformance:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)

    def problems(self, method: str, template: str, response: httpx.Response) -> list[str]:
        """Why ``response`` (to ``method`` on the route ``template``) breaks the document."""
        operation = self.spec["paths"].get(template, {}).get(method.lower())
        if operation is None:
            return [f"{method} {template} is not in the OpenAPI document"]
        status = str(response.status_code)
        documented = operation["responses"].get(status)
        if documented is None:
            return [f"{method} {template} answered {status}, which it does not document"]
        media = response.headers.get("content-type", "").split(";")[0].strip()
        content = documented.get("content", {})
        if not content:
            return []
        if media not in content:
            return [f"{method} {template} {status}: {media} is not documented ({list(content)})"]
        if media not in JSON_MEDIA:
            return []  # a file (CSV, iCalendar) or a page: its bytes are not JSON
        schema = {"$ref": f"{SPEC_URI}#/{_pointer('paths', template, method.lower())}"}
        schema["$ref"] += "/" + _pointer("responses", status, "content", media, "schema")
        validator = jsonschema.Draft202012Validator(schema, registry=self.registry)
        return [
            f"{method} {template} {status}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(response.json())
        ][:5]
