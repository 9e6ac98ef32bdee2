"""Pages, case studies and testimonials through the API: the publishing workflow and who sees
what, validators and 304, revisions, redirects, sanitised rich text, search, SEO, sitemap."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from email.utils import format_datetime
from typing import Any

import asyncpg
import httpx
import pytest

from dreamer.core.config import Settings
from dreamer.seed.runner import run_seed
from tests.factories import Account, make_account

PAGE: dict[str, Any] = {
    "title": "Launching our assistant",
    "slug": "blog/launching-our-assistant",
    "pageType": "blog",
    "content": {
        "blocks": [
            {"type": "heading", "level": 2, "text": "Why we built it"},
            {"type": "paragraph", "text": "Our <em>retrieval</em> pipeline answers questions."},
            {"type": "list", "items": ["Fast", "Grounded"]},
            {"type": "image", "src": "/img/launch.png", "alt": "The assistant"},
            {"type": "cta", "label": "Book a call", "href": "/book"},
        ]
    },
    "metaDescription": "How and why we launched the assistant.",
}


@pytest.fixture
async def admin(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, settings: Settings
) -> Account:
    assert settings.database_owner_url
    await run_seed(settings, settings.database_owner_url, demo=True, only_if_empty=False)
    return await make_account(client, owner_conn, "editor@example.com", role="admin")


@pytest.fixture
async def client_account(client: httpx.AsyncClient, owner_conn: asyncpg.Connection) -> Account:
    return await make_account(client, owner_conn, "reader@example.com", role="client")


async def _create(
    client: httpx.AsyncClient, admin: Account, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    created = await client.post(path, json=body, headers=admin.auth)
    assert created.status_code == 201, created.text
    data: dict[str, Any] = created.json()["data"]
    return data


async def _publish(
    client: httpx.AsyncClient, admin: Account, path: str, **body: Any
) -> dict[str, Any]:
    done = await client.post(f"{path}/publish", json=body, headers=admin.auth)
    assert done.status_code == 200, done.text
    data: dict[str, Any] = done.json()["data"]
    return data


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


async def test_the_demo_content_is_listed(client: httpx.AsyncClient, admin: Account) -> None:
    pages = (await client.get("/api/v1/pages")).json()
    assert {p["slug"] for p in pages["data"]} >= {"home", "about"}
    studies = (await client.get("/api/v1/case-studies")).json()["data"]
    assert [s["slug"] for s in studies] == [
        "retail-support-assistant",
        "logistics-demand-forecasting",
    ]
    testimonials = (await client.get("/api/v1/testimonials")).json()["data"]
    assert len(testimonials) == 3
    featured = (await client.get("/api/v1/testimonials?featured=true")).json()["data"]
    assert {t["clientName"] for t in featured} == {"Maria Chen", "James O'Neill"}
    # the public never learns who wrote what
    assert "authorId" not in pages["data"][0] and "viewCount" not in studies[0]


async def test_workflow_and_visibility(
    client: httpx.AsyncClient, admin: Account, client_account: Account
) -> None:
    page = await _create(client, admin, "/api/v1/pages", PAGE)
    assert page["status"] == "draft" and page["authorId"] == str(admin.id)
    slug_path = f"/api/v1/pages/{PAGE['slug']}"
    item = f"/api/v1/pages/{page['id']}"
    now = dt.datetime.now(dt.UTC)

    async def public() -> int:
        return (await client.get(slug_path)).status_code

    async def as_client() -> int:
        return (await client.get(slug_path, headers=client_account.auth)).status_code

    async def as_staff() -> int:
        return (await client.get(slug_path, headers=admin.auth)).status_code

    assert (await public(), await as_client(), await as_staff()) == (404, 404, 200)
    # scheduled: published, but from tomorrow
    await _publish(client, admin, item, publishAt=_iso(now + dt.timedelta(days=1)))
    assert (await public(), await as_client(), await as_staff()) == (404, 404, 200)
    listed = (await client.get("/api/v1/pages?type=blog")).json()["data"]
    assert listed == []
    # published now
    shown = await _publish(client, admin, item)
    assert shown["status"] == "published"
    assert (await public(), await as_client(), await as_staff()) == (200, 200, 200)
    listed = (await client.get("/api/v1/pages?type=blog")).json()["data"]
    assert [p["slug"] for p in listed] == [PAGE["slug"]]
    # expired: published an hour ago until a minute ago
    await _publish(
        client,
        admin,
        item,
        publishAt=_iso(now - dt.timedelta(hours=1)),
        expiresAt=_iso(now - dt.timedelta(minutes=1)),
    )
    assert (await public(), await as_client(), await as_staff()) == (404, 404, 200)
    # an expiry before the publication is refused
    bad = await client.post(
        f"{item}/publish",
        json={"publishAt": _iso(now), "expiresAt": _iso(now - dt.timedelta(days=1))},
        headers=admin.auth,
    )
    assert bad.status_code == 422
    await _publish(client, admin, item, expiresAt=None)
    assert await public() == 200
    # unpublished, then archived: gone for the public, kept for staff
    done = await client.post(f"{item}/unpublish", headers=admin.auth)
    assert done.json()["data"]["status"] == "draft"
    assert (await public(), await as_staff()) == (404, 200)
    done = await client.post(f"{item}/archive", headers=admin.auth)
    assert done.json()["data"]["status"] == "archived"
    assert (await public(), await as_staff()) == (404, 200)
    drafts = await client.get("/api/v1/pages?status=archived", headers=admin.auth)
    assert [p["slug"] for p in drafts.json()["data"]] == [PAGE["slug"]]
    # status is a staff filter: the public list stays the public list
    assert all(
        p["status"] == "published"
        for p in (await client.get("/api/v1/pages?status=archived")).json()["data"]
    )
    # writes are staff only
    denied = await client.patch(item, json={"title": "x"}, headers=client_account.auth)
    assert denied.status_code == 403
    assert (await client.delete(item)).status_code == 401
    gone = await client.delete(item, headers=admin.auth)
    assert gone.status_code == 200
    assert await as_staff() == 404


async def test_validators_and_304(client: httpx.AsyncClient, admin: Account) -> None:
    first = await client.get("/api/v1/pages/about")
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = await client.get("/api/v1/pages/about", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    since = await client.get("/api/v1/pages/about", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    older = format_datetime(dt.datetime(2020, 1, 1, tzinfo=dt.UTC), usegmt=True)
    assert (
        await client.get("/api/v1/pages/about", headers={"If-Modified-Since": older})
    ).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    both = await client.get(
        "/api/v1/pages/about", headers={"If-None-Match": '"other"', "If-Modified-Since": modified}
    )
    assert both.status_code == 200
    listed = await client.get("/api/v1/case-studies")
    cond = {"If-None-Match": listed.headers["etag"]}
    assert (await client.get("/api/v1/case-studies", headers=cond)).status_code == 304
    # a change makes a new tag
    about = next(
        p for p in (await client.get("/api/v1/pages")).json()["data"] if p["slug"] == "about"
    )
    await client.patch(
        f"/api/v1/pages/{about['id']}", json={"title": "About Dreamer"}, headers=admin.auth
    )
    changed = await client.get("/api/v1/pages/about", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["data"]["title"] == "About Dreamer"


async def test_revisions_diff_and_restore(client: httpx.AsyncClient, admin: Account) -> None:
    page = await _create(client, admin, "/api/v1/pages", PAGE)
    item = f"/api/v1/pages/{page['id']}"
    await client.patch(item, json={"title": "Second title"}, headers=admin.auth)
    blocks = [{"type": "paragraph", "text": "Rewritten from scratch."}]
    await client.patch(item, json={"content": {"blocks": blocks}}, headers=admin.auth)
    revisions = (await client.get(f"{item}/revisions", headers=admin.auth)).json()["data"]
    assert [r["revision"] for r in revisions] == [3, 2, 1]
    assert all(r["authorId"] == str(admin.id) for r in revisions)
    one = (await client.get(f"{item}/revisions/1", headers=admin.auth)).json()["data"]
    assert one["snapshot"]["title"] == PAGE["title"]
    diff = (await client.get(f"{item}/revisions/diff?from=1&to=3", headers=admin.auth)).json()
    fields = {c["field"] for c in diff["data"]["changes"]}
    assert fields == {"title", "content"}
    assert any(line.startswith("+") and "Rewritten" in line for line in diff["data"]["contentDiff"])
    restored = await client.post(f"{item}/revisions/1/restore", headers=admin.auth)
    assert restored.status_code == 200, restored.text
    data = restored.json()["data"]
    assert data["title"] == PAGE["title"] and data["content"]["blocks"][0]["type"] == "heading"
    revisions = (await client.get(f"{item}/revisions", headers=admin.auth)).json()["data"]
    assert revisions[0]["revision"] == 4
    # a save that changes nothing keeps no revision
    await client.patch(item, json={"title": PAGE["title"]}, headers=admin.auth)
    assert len((await client.get(f"{item}/revisions", headers=admin.auth)).json()["data"]) == 4
    missing = await client.get(f"{item}/revisions/99", headers=admin.auth)
    assert missing.status_code == 404
    huge = await client.get(f"{item}/revisions/232909372435", headers=admin.auth)
    assert huge.status_code == 422  # beyond the column, refused before the database


async def test_a_renamed_slug_redirects(client: httpx.AsyncClient, admin: Account) -> None:
    study = await _create(
        client, admin, "/api/v1/case-studies", {"title": "Forecasts", "slug": "old-name"}
    )
    item = f"/api/v1/case-studies/{study['id']}"
    await _publish(client, admin, item)
    renamed = await client.patch(item, json={"slug": "new-name"}, headers=admin.auth)
    assert renamed.status_code == 200
    moved = await client.get("/api/v1/case-studies/old-name", follow_redirects=False)
    assert moved.status_code == 301
    assert moved.headers["location"] == "/api/v1/case-studies/new-name"
    assert (await client.get("/api/v1/case-studies/new-name")).status_code == 200
    # renamed back: the old name is current again, never a redirect to itself
    await client.patch(item, json={"slug": "old-name"}, headers=admin.auth)
    assert (
        await client.get("/api/v1/case-studies/old-name", follow_redirects=False)
    ).status_code == 200
    moved = await client.get("/api/v1/case-studies/new-name", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"].endswith("/old-name")
    # another item may take a former slug over: it is then that item's
    other = await _create(
        client, admin, "/api/v1/case-studies", {"title": "Other", "slug": "new-name"}
    )
    await _publish(client, admin, f"/api/v1/case-studies/{other['id']}")
    taken = await client.get("/api/v1/case-studies/new-name", follow_redirects=False)
    assert taken.status_code == 200 and taken.json()["data"]["title"] == "Other"
    # a slug in use is refused
    clash = await client.patch(item, json={"slug": "new-name"}, headers=admin.auth)
    assert clash.status_code == 409
    # a redirect never reveals a draft
    await client.post(f"{item}/unpublish", headers=admin.auth)
    await client.patch(item, json={"slug": "third-name"}, headers=admin.auth)
    hidden = await client.get("/api/v1/case-studies/old-name", follow_redirects=False)
    assert hidden.status_code == 404


XSS = [
    '<script>alert("x")</script>Hello',
    '<img src=x onerror="alert(1)">Hello',
    '<a href="javascript:alert(1)">Hello</a>',
    '<p onclick="alert(1)">Hello</p>',
    "<svg><script>alert(1)</script></svg>Hello",
    '<a href="https://example.com" onmouseover="x()">Hello</a>',
    "<iframe src='https://evil.example'></iframe>Hello",
    "<style>body{display:none}</style>Hello",
]


@pytest.mark.parametrize("payload", XSS)
async def test_rich_text_is_sanitised(
    client: httpx.AsyncClient, admin: Account, payload: str
) -> None:
    body = {
        "title": "XSS",
        "slug": "xss-probe",
        "content": {"blocks": [{"type": "paragraph", "text": payload}]},
    }
    page = await _create(client, admin, "/api/v1/pages", body)
    stored = page["content"]["blocks"][0]["text"]
    lowered = stored.lower()
    for bad in ("<script", "onerror", "onclick", "onmouseover", "javascript:", "<iframe", "<img"):
        assert bad not in lowered, stored
    assert "<style" not in lowered and "display:none" not in lowered
    assert "Hello" in stored
    study = await _create(
        client,
        admin,
        "/api/v1/case-studies",
        {"title": "XSS", "slug": "xss-study", "challenge": payload},
    )
    assert "<script" not in (study["challenge"] or "").lower()


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "src": "javascript:alert(1)", "alt": "x"},
        {"type": "image", "src": "//evil.example/x.png", "alt": "x"},
        {"type": "image", "src": "/x.png"},  # no alt text
        {"type": "cta", "label": "Go", "href": "data:text/html,hi"},
        {"type": "heading", "level": 1, "text": "H1 is the page title"},
        {"type": "paragraph", "text": "<script>only</script>"},  # nothing left once sanitised
        {"type": "marquee", "text": "no such block"},
        {"type": "paragraph", "text": "x", "style": "unknown member"},
    ],
)
async def test_invalid_blocks_are_refused(
    client: httpx.AsyncClient, admin: Account, block: dict[str, Any]
) -> None:
    body = {"title": "Bad", "slug": "bad-block", "content": {"blocks": [block]}}
    refused = await client.post("/api/v1/pages", json=body, headers=admin.auth)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"


async def test_urls_are_validated(client: httpx.AsyncClient, admin: Account) -> None:
    for url in ("ftp://x.example/a.png", "javascript:alert(1)", "not a url"):
        refused = await client.post(
            "/api/v1/case-studies",
            json={"title": "T", "slug": "t-url", "featuredImage": url},
            headers=admin.auth,
        )
        assert refused.status_code == 422, url
    ok = await client.post(
        "/api/v1/case-studies",
        json={"title": "T", "slug": "t-url", "images": ["https://cdn.example/a.png", "/b.png"]},
        headers=admin.auth,
    )
    assert ok.status_code == 201


async def test_seo_and_json_ld(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    page = await _create(client, admin, "/api/v1/pages", PAGE)
    await _publish(client, admin, f"/api/v1/pages/{page['id']}")
    shown = (await client.get(f"/api/v1/pages/{PAGE['slug']}")).json()["data"]
    seo = shown["seo"]
    assert seo["canonicalUrl"] == f"{settings.frontend_url}/{PAGE['slug']}"
    assert seo["description"] == PAGE["metaDescription"]
    types = [ld["@type"] for ld in seo["jsonLd"]]
    assert types == ["Organization", "Article"]
    assert seo["ogImage"] is None
    study = (await client.get("/api/v1/case-studies/retail-support-assistant")).json()["data"]
    assert [ld["@type"] for ld in study["seo"]["jsonLd"]] == ["Organization", "Article"]
    assert study["testimonials"][0]["clientName"] == "Maria Chen"
    assert "authorId" not in study["testimonials"][0]
    meta = await client.get("/api/v1/seo/meta", params={"path": "/services/ai-training-workshop"})
    assert meta.status_code == 200
    service_ld = meta.json()["data"]["jsonLd"][1]
    assert service_ld["@type"] == "Service" and service_ld["offers"]["price"] == "2500"
    home = (await client.get("/api/v1/seo/meta", params={"path": "/"})).json()["data"]
    assert home["title"] == "Dreamer AI Solutions — AI consulting"
    listing = await client.get("/api/v1/seo/meta", params={"path": "/case-studies"})
    assert listing.json()["data"]["jsonLd"][1]["@type"] == "CollectionPage"
    missing = await client.get("/api/v1/seo/meta", params={"path": "/nothing-here"})
    assert missing.status_code == 404
    # the original backend's paths, through the /api → /api/v1 redirect
    legacy = await client.get("/api/seo/meta/about", follow_redirects=True)
    assert legacy.status_code == 200 and legacy.json()["data"]["path"] == "/about"
    typed = await client.get("/api/seo/structured-data/services", follow_redirects=True)
    assert {ld["@type"] for ld in typed.json()["data"]} == {"Service"}
    site = (await client.get("/api/v1/seo/structured-data/website")).json()["data"][0]
    assert site["potentialAction"]["@type"] == "SearchAction"
    unknown = await client.get("/api/v1/seo/structured-data/recipes")
    assert unknown.status_code == 404


async def test_deleting_the_author_keeps_the_content(
    client: httpx.AsyncClient, admin: Account, owner_conn: asyncpg.Connection
) -> None:
    page = await _create(client, admin, "/api/v1/pages", {**PAGE, "slug": "authored"})
    await _publish(client, admin, f"/api/v1/pages/{page['id']}")
    await owner_conn.execute("delete from users where id = $1", admin.id)
    author = await owner_conn.fetchval(
        "select author_id from content_pages where id = $1", page["id"]
    )
    assert author is None
    assert (await client.get("/api/v1/pages/authored")).status_code == 200


async def test_sitemap_and_robots(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    draft = await _create(client, admin, "/api/v1/pages", {**PAGE, "slug": "draft-page"})
    assert draft["status"] == "draft"
    response = await client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own response, not foreign XML)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    urls = {
        u.findtext("s:loc", namespaces=ns): u.findtext("s:lastmod", namespaces=ns) for u in root
    }
    site = settings.frontend_url
    assert f"{site}/" in urls and f"{site}/about" in urls
    assert f"{site}/case-studies/retail-support-assistant" in urls
    assert f"{site}/services/ai-strategy-consultation" in urls
    assert f"{site}/draft-page" not in urls
    lastmod = urls[f"{site}/about"]
    assert lastmod is not None and dt.datetime.fromisoformat(lastmod).tzinfo is not None
    robots = await client.get("/robots.txt")
    assert "Disallow: /api/" in robots.text
    assert f"Sitemap: {settings.public_url}/sitemap.xml" in robots.text


async def test_search_ranks_highlights_and_prefixes(
    client: httpx.AsyncClient, admin: Account
) -> None:
    in_title = await _create(
        client,
        admin,
        "/api/v1/pages",
        {
            "title": "Quantum forecasting explained",
            "slug": "quantum-title",
            "content": {"blocks": [{"type": "paragraph", "text": "A short note."}]},
        },
    )
    in_body = await _create(
        client,
        admin,
        "/api/v1/pages",
        {
            "title": "A note on planning",
            "slug": "quantum-body",
            "content": {
                "blocks": [
                    {"type": "paragraph", "text": "We tried quantum methods for forecasting."}
                ]
            },
        },
    )
    hidden = await _create(
        client, admin, "/api/v1/pages", {"title": "Quantum draft", "slug": "quantum-draft"}
    )
    for page in (in_title, in_body):
        await _publish(client, admin, f"/api/v1/pages/{page['id']}")
    found = (await client.get("/api/v1/search", params={"q": "quantum"})).json()
    slugs = [h["slug"] for h in found["data"]]
    assert slugs == ["quantum-title", "quantum-body"]  # title first, the draft never
    assert hidden["slug"] not in slugs
    assert found["data"][0]["titleHighlight"] == "<mark>Quantum</mark> forecasting explained"
    assert "<mark>quantum</mark>" in found["data"][1]["highlight"]
    # prefixes and stemming
    prefixed = (await client.get("/api/v1/search", params={"q": "quant forecast"})).json()
    assert [h["slug"] for h in prefixed["data"]] == ["quantum-title", "quantum-body"]
    services = (await client.get("/api/v1/search", params={"q": "workshops"})).json()["data"]
    assert services[0]["kind"] == "service" and services[0]["path"].startswith("/services/")
    # the query syntax is never the caller's: operators are just words
    for q in ("quantum & !", "':* | (", "<script>", "a"):
        odd = await client.get("/api/v1/search", params={"q": q})
        assert odd.status_code == 200, q
    escaped = await _create(
        client,
        admin,
        "/api/v1/pages",
        {
            "title": "Zebra <b>tags</b>",
            "slug": "zebra",
            "content": {"blocks": [{"type": "paragraph", "text": "zebra &amp; friends"}]},
        },
    )
    await _publish(client, admin, f"/api/v1/pages/{escaped['id']}")
    hit = (await client.get("/api/v1/search", params={"q": "zebra"})).json()["data"][0]
    assert "<b>" not in hit["titleHighlight"] and "&lt;b&gt;" in hit["titleHighlight"]


async def test_views_are_counted_in_batches(
    client: httpx.AsyncClient, admin: Account, owner_conn: asyncpg.Connection
) -> None:
    from dreamer.app import _write_views

    transport = client._transport
    app: Any = transport.app  # type: ignore[attr-defined]
    for _ in range(3):
        assert (await client.get("/api/v1/pages/about")).status_code == 200
    assert (await client.get("/api/v1/case-studies/retail-support-assistant")).status_code == 200
    assert (await client.get("/api/v1/pages/no-such-page")).status_code == 404
    assert await owner_conn.fetchval("select count(*) from content_views") == 0  # not yet
    await _write_views(app.state.db, app.state.views)
    rows = await owner_conn.fetch("select kind::text, views from content_views")
    assert {r["kind"]: r["views"] for r in rows} == {"page": 3, "case_study": 1}
    staff = await client.get("/api/v1/pages?type=custom", headers=admin.auth)
    about = next(p for p in staff.json()["data"] if p["slug"] == "about")
    assert about["viewCount"] == 3
    # a view count is not a change: no audit entry, no revision, no new Last-Modified
    audited = await owner_conn.fetchval(
        "select count(*) from audit_logs where entity_type = 'content_views'"
    )
    assert audited == 0


async def test_a_testimonial_revision_restores_its_case_study(
    client: httpx.AsyncClient, admin: Account
) -> None:
    study = (await client.get("/api/v1/case-studies/retail-support-assistant")).json()["data"]
    quote = await _create(
        client,
        admin,
        "/api/v1/testimonials",
        {"clientName": "Ada", "content": "Superb", "caseStudyId": study["id"], "rating": 5},
    )
    item = f"/api/v1/testimonials/{quote['id']}"
    await client.patch(item, json={"caseStudyId": None, "rating": 3}, headers=admin.auth)
    restored = await client.post(f"{item}/revisions/1/restore", headers=admin.auth)
    assert restored.status_code == 200, restored.text
    assert restored.json()["data"]["caseStudyId"] == study["id"]
    assert restored.json()["data"]["rating"] == 5
    dangling = await client.post(
        "/api/v1/testimonials",
        json={"clientName": "Bo", "content": "Fine", "caseStudyId": str(quote["id"])},
        headers=admin.auth,
    )
    assert dangling.status_code == 422
