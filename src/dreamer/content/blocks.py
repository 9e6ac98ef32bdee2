"""The block structure of a page's ``content``, validated and sanitised on every write.

A page is ``{"blocks": [block, …]}`` (at most 500 blocks), each block one of:

=============  ==============================================================================
``heading``    ``level`` 2 to 4, ``text`` (plain)
``paragraph``  ``text`` (rich)
``list``       ``style`` ``bulleted`` or ``numbered``, ``items``: 1 to 100 rich strings
``quote``      ``text`` (rich), ``cite`` (plain, optional)
``image``      ``src`` (URL), ``alt`` (plain, required: the page must stay accessible),
               ``caption`` (plain, optional)
``cta``        ``label`` (plain), ``href`` (URL or ``mailto:``)
=============  ==============================================================================

*Plain* text is text: the website must escape it when it renders it (React does). *Rich* text
is a small HTML subset — ``b strong i em u s mark code sub sup br`` and ``a`` with ``href``
(http, https, mailto or a site path) and ``title`` — sanitised with ammonia (``nh3``): any
other tag is removed with its attributes (``<script>`` and ``<style>`` with their contents),
event handlers and ``javascript:`` links never survive, and links get
``rel="noopener noreferrer"``. What is stored is the sanitised text, so every reader of the
API (the website, a CDN, an export) gets safe HTML.

URLs (images, links, featured images) are absolute ``http(s)`` URLs or site-relative paths
(``/…``, never ``//…``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import nh3
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

RICH_TAGS = {"b", "strong", "i", "em", "u", "s", "mark", "code", "sub", "sup", "br", "a"}
RICH_ATTRIBUTES = {"a": {"href", "title"}}
RICH_SCHEMES = {"http", "https", "mailto"}


def sanitise(html: str) -> str:
    """Rich text reduced to the allowed subset (see the module docstring)."""
    return nh3.clean(
        html,
        tags=RICH_TAGS,
        attributes=RICH_ATTRIBUTES,
        url_schemes=RICH_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def check_url(value: str) -> str:
    """An absolute http(s) URL or a site path; anything else is refused."""
    value = value.strip()
    if value.startswith("/") and not value.startswith("//"):
        if any(c.isspace() for c in value):
            raise ValueError("a site path has no spaces")
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL or a path starting with /")
    if any(c.isspace() for c in value):
        raise ValueError("a URL has no spaces")
    return value


def check_link(value: str) -> str:
    if value.strip().lower().startswith("mailto:") and "@" in value:
        return value.strip()
    return check_url(value)


Url = Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(check_url)]
Link = Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(check_link)]


def _rich(value: str) -> str:
    clean = sanitise(value)
    if not clean:
        raise ValueError("is empty once sanitised")
    return clean


def _plain(limit: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=limit)


def _sized(limit: int) -> StringConstraints:
    return StringConstraints(min_length=1, max_length=limit)


Plain300 = Annotated[str, _plain(300)]
Plain500 = Annotated[str, _plain(500)]
Plain100 = Annotated[str, _plain(100)]
Rich20k = Annotated[str, _sized(20_000), AfterValidator(_rich)]
Rich5k = Annotated[str, _sized(5_000), AfterValidator(_rich)]
Rich2k = Annotated[str, _sized(2_000), AfterValidator(_rich)]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Heading(_Block):
    type: Literal["heading"]
    level: int = Field(default=2, ge=2, le=4)
    text: Plain300


class Paragraph(_Block):
    type: Literal["paragraph"]
    text: Rich20k


class ListBlock(_Block):
    type: Literal["list"]
    style: Literal["bulleted", "numbered"] = "bulleted"
    items: list[Rich2k] = Field(min_length=1, max_length=100)


class Quote(_Block):
    type: Literal["quote"]
    text: Rich5k
    cite: Plain300 | None = None


class Image(_Block):
    type: Literal["image"]
    src: Url
    alt: Plain300
    caption: Plain500 | None = None


class CallToAction(_Block):
    type: Literal["cta"]
    label: Plain100
    href: Link


Block = Annotated[
    Heading | Paragraph | ListBlock | Quote | Image | CallToAction, Field(discriminator="type")
]


class PageContent(BaseModel):
    """A page's ``content``: its blocks, in order."""

    model_config = ConfigDict(extra="forbid")

    blocks: list[Block] = Field(default_factory=list, max_length=500)

    def stored(self) -> dict[str, Any]:
        """The JSON stored: the sanitised blocks, without unset optional members."""
        return self.model_dump(mode="json", exclude_none=True)


def plain_text(content: dict[str, Any]) -> str:
    """The prose of a page's blocks (for descriptions and search snippets), tags removed."""
    parts: list[str] = []
    for block in content.get("blocks", []) if isinstance(content, dict) else []:
        if not isinstance(block, dict):
            continue
        for key in ("text", "caption", "cite", "label"):
            if isinstance(block.get(key), str):
                parts.append(block[key])
        items = block.get("items")
        if isinstance(items, list):
            parts.extend(i for i in items if isinstance(i, str))
    return " ".join(nh3.clean(p, tags=set()) for p in parts)
