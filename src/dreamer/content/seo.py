"""Where content lives on the website, and what search engines are told about it.

Paths on the website (``FRONTEND_URL``): a page at ``/<slug>`` (the ``home`` page at ``/``), a
case study at ``/case-studies/<slug>``, a service at ``/services/<slug>``; the lists at
``/case-studies``, ``/services`` and ``/testimonials``. Canonical URLs are those paths on
``FRONTEND_URL`` unless a page names its own. JSON-LD (schema.org): ``Organization`` for the
site, ``Service`` for a service, ``Article`` for a case study or a blog page, ``WebPage`` for
any other page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from dreamer.content.blocks import plain_text
from dreamer.core.config import Settings

HOME = "home"


@dataclass(frozen=True)
class Site:
    url: str  # the website, no trailing slash
    name: str
    api_url: str  # this service, no trailing slash

    @classmethod
    def of(cls, settings: Settings) -> Site:
        return cls(settings.frontend_url.rstrip("/"), settings.site_name, settings.public_url)

    def absolute(self, path: str) -> str:
        return self.url + path


def path_for(kind: str, slug: str | None) -> str:
    if kind == "page":
        return "/" if slug == HOME else f"/{slug}"
    if kind == "case_study":
        return f"/case-studies/{slug}"
    if kind == "service":
        return f"/services/{slug}"
    return "/testimonials"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def organization(site: Site) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": site.name,
        "url": site.url + "/",
    }


def _summary(text: str | None, limit: int = 300) -> str | None:
    if not text:
        return None
    text = " ".join(plain_text({"blocks": [{"text": text}]}).split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _seo(
    site: Site,
    *,
    title: str,
    description: str | None,
    keywords: str | None,
    image: str | None,
    canonical: str,
    ld: dict[str, Any],
) -> dict[str, Any]:
    if image is not None and image.startswith("/"):
        image = site.absolute(image)
    if image is not None:
        ld["image"] = image
    return {
        "title": title,
        "description": description,
        "keywords": keywords,
        "og_image": image,
        "canonical_url": canonical,
        "json_ld": [organization(site), ld],
    }


def page_seo(site: Site, row: Mapping[str, Any]) -> dict[str, Any]:
    path = path_for("page", row["slug"])
    canonical = row["canonical_url"] or site.absolute(path)
    if canonical.startswith("/"):
        canonical = site.absolute(canonical)
    description = row["meta_description"] or _summary(plain_text(row["content"]))
    ld: dict[str, Any] = {"@context": "https://schema.org", "url": canonical}
    if row["page_type"] == "blog":
        ld |= {
            "@type": "Article",
            "headline": row["title"],
            "datePublished": _iso(row["published_at"]),
            "dateModified": _iso(row["updated_at"]),
            "publisher": {"@type": "Organization", "name": site.name},
        }
    else:
        ld |= {
            "@type": "WebPage",
            "name": row["title"],
            "isPartOf": {"@type": "WebSite", "url": site.url + "/"},
        }
    if description:
        ld["description"] = description
    return _seo(
        site,
        title=row["meta_title"] or f"{row['title']} | {site.name}",
        description=description,
        keywords=row["meta_keywords"],
        image=row["og_image"],
        canonical=canonical,
        ld=ld,
    )


def case_study_seo(site: Site, row: Mapping[str, Any]) -> dict[str, Any]:
    canonical = site.absolute(path_for("case_study", row["slug"]))
    description = row["meta_description"] or _summary(row["challenge"] or row["results"])
    ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": row["title"],
        "url": canonical,
        "datePublished": _iso(row["published_at"]),
        "dateModified": _iso(row["updated_at"]),
        "publisher": {"@type": "Organization", "name": site.name},
    }
    if description:
        ld["description"] = description
    if row["client_name"]:
        ld["about"] = {"@type": "Organization", "name": row["client_name"]}
    keywords = row["meta_keywords"] or (", ".join(map(str, row["technologies"])) or None)
    return _seo(
        site,
        title=row["meta_title"] or f"{row['title']} | {site.name}",
        description=description,
        keywords=keywords,
        image=row["featured_image"],
        canonical=canonical,
        ld=ld,
    )


def service_seo(site: Site, row: Mapping[str, Any]) -> dict[str, Any]:
    canonical = site.absolute(path_for("service", row["slug"]))
    ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Service",
        "name": row["name"],
        "url": canonical,
        "provider": {"@type": "Organization", "name": site.name, "url": site.url + "/"},
    }
    description = _summary(row["description"])
    if description:
        ld["description"] = description
    pricing = row["pricing"] or {}
    if isinstance(pricing, dict) and pricing.get("amount") is not None:
        ld["offers"] = {
            "@type": "Offer",
            "price": str(pricing["amount"]),
            "priceCurrency": pricing.get("currency", "USD"),
        }
    return _seo(
        site,
        title=f"{row['name']} | {site.name}",
        description=description,
        keywords=None,
        image=None,
        canonical=canonical,
        ld=ld,
    )


def website(site: Site) -> dict[str, Any]:
    """The site itself, with its search (schema.org SearchAction on the website's /search)."""
    return {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": site.name,
        "url": site.url + "/",
        "potentialAction": {
            "@type": "SearchAction",
            "target": site.url + "/search?q={search_term_string}",
            "query-input": "required name=search_term_string",
        },
    }


STRUCTURED_TYPES = ("organization", "website", "services", "case-studies")


# The website's list pages, described without a row.
LISTS = {
    "/case-studies": ("Case studies", "What we built for our clients, and what it changed."),
    "/services": ("Services", "AI strategy, development, integration and training."),
    "/testimonials": ("Testimonials", "What our clients say about working with us."),
}


def list_seo(site: Site, path: str) -> dict[str, Any]:
    title, description = LISTS[path]
    canonical = site.absolute(path)
    ld = {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "name": title,
        "url": canonical,
        "description": description,
    }
    return _seo(
        site,
        title=f"{title} | {site.name}",
        description=description,
        keywords=None,
        image=None,
        canonical=canonical,
        ld=ld,
    )


def sitemap_xml(site: Site, rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A sitemap (sitemaps.org 0.9) of the public pages, case studies and services, and the
    list pages, each with its last modification."""
    entries: list[tuple[str, datetime | None]] = [(p, None) for p in LISTS]
    entries += [(path_for(r["kind"], r["slug"]), r["updated_at"]) for r in rows]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for path, modified in sorted(entries, key=lambda e: e[0]):
        lines.append(f"<url><loc>{escape(site.absolute(path))}</loc>")
        if modified is not None:
            lines.append(f"<lastmod>{modified.isoformat(timespec='seconds')}</lastmod>")
        lines.append("</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode()


def robots_txt(site: Site) -> bytes:
    """This service's own answer: nothing under the API or the mailed-link pages is for
    crawlers; the sitemap is."""
    return (
        "User-agent: *\n"
        "Disallow: /api/\n"
        "Disallow: /docs\n"
        "Disallow: /verify-email\n"
        "Disallow: /reset-password\n"
        "Disallow: /forgot-password\n"
        "Disallow: /newsletter/\n"
        f"Sitemap: {site.api_url}/sitemap.xml\n"
    ).encode()
