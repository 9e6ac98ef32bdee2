"""The access matrix: every route, every actor, own object and another's object -> status.

Actors: anonymous (no token), visitor (a registered account with role visitor), clients A and B,
an admin and a super_admin. A route of the app that has no row here fails
``test_every_route_has_a_row``: adding an endpoint means deciding who may call it.
Each route runs against a fresh database and fresh accounts, so destructive calls (logout,
password change) cannot disturb another row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from dreamer.app import close_pools, create_app
from tests.conformance import Conformance
from tests.factories import PASSWORD, Account, make_account
from tests.harness import ClonedDatabase, Cluster, clone_database, drop_database, make_settings

ACTORS = ("anonymous", "visitor", "client_a", "client_b", "admin", "super_admin")
ROLES = {
    "visitor": "visitor",
    "client_a": "client",
    "client_b": "client",
    "admin": "admin",
    "super_admin": "super_admin",
}
OTHER = {"client_b": "client_a"}  # whose object counts as "another's" (default: client B's)
NEW_PASSWORD = "freshly minted passphrase"


@dataclass
class World:
    client: httpx.AsyncClient
    owner: asyncpg.Connection
    accounts: dict[str, Account]
    conformance: Conformance
    counter: list[int] = field(default_factory=lambda: [0])

    def unique(self) -> str:
        self.counter[0] += 1
        return f"n{self.counter[0]}-{uuid.uuid4().hex[:6]}@example.com"

    def headers(self, actor: str) -> dict[str, str]:
        return self.accounts[actor].auth if actor in self.accounts else {}

    def other(self, actor: str) -> Account:
        return self.accounts[OTHER.get(actor, "client_b")]

    async def session_id(self, account: Account) -> str:
        value = await self.owner.fetchval(
            "select id from user_sessions where user_id = $1 and revoked_at is null "
            "order by created_at limit 1",
            account.id,
        )
        return str(value)


Request = tuple[str, str, dict[str, Any] | None]
Build = Callable[[World, str, str], Awaitable[Request]]


def plain(method: str, path: str, body: dict[str, Any] | None = None) -> Build:
    async def build(world: World, actor: str, whose: str) -> Request:
        return method, path, body

    return build


async def _register(world: World, actor: str, whose: str) -> Request:
    return (
        "POST",
        "/api/v1/auth/register",
        {"email": world.unique(), "password": PASSWORD, "firstName": "N", "lastName": "U"},
    )


async def _login(world: World, actor: str, whose: str) -> Request:
    email = (
        world.accounts[actor].email if actor in world.accounts else world.accounts["client_a"].email
    )
    return "POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD}


async def _refresh(world: World, actor: str, whose: str) -> Request:
    if actor in world.accounts:
        return "POST", "/api/v1/auth/refresh", {"refreshToken": world.accounts[actor].refresh}
    # anyone holding a refresh token may use it: a fresh one, so no actor's token is reused
    login = await world.client.post(
        "/api/v1/auth/login", json={"email": world.accounts["client_a"].email, "password": PASSWORD}
    )
    return "POST", "/api/v1/auth/refresh", {"refreshToken": login.json()["data"]["refreshToken"]}


async def _change_password(world: World, actor: str, whose: str) -> Request:
    return (
        "POST",
        "/api/v1/auth/password",
        {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
    )


async def _resend(world: World, actor: str, whose: str) -> Request:
    return "POST", "/api/v1/auth/verify-email/resend", {"email": world.unique()}


async def _reset(world: World, actor: str, whose: str) -> Request:
    return "POST", "/api/v1/auth/password-reset", {"email": world.unique()}


def _target(world: World, actor: str, whose: str) -> Account:
    if whose == "own" and actor in world.accounts:
        return world.accounts[actor]
    return world.other(actor)


async def _session(world: World, actor: str, whose: str) -> Request:
    account = _target(world, actor, whose)
    if whose == "own" and actor in world.accounts:
        # a second session of the actor's own, so the current one survives the call
        await world.client.post(
            "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
        )
        sid = await world.owner.fetchval(
            "select id from user_sessions where user_id = $1 and revoked_at is null "
            "order by created_at desc limit 1",
            account.id,
        )
        return "DELETE", f"/api/v1/auth/sessions/{sid}", None
    return "DELETE", f"/api/v1/auth/sessions/{await world.session_id(account)}", None


async def _admin_get(world: World, actor: str, whose: str) -> Request:
    return "GET", f"/api/v1/admin/users/{_target(world, actor, whose).id}", None


def user_call(method: str, suffix: str) -> Build:
    async def build(world: World, actor: str, whose: str) -> Request:
        return method, f"/api/v1/admin/users/{_target(world, actor, whose).id}{suffix}", None

    return build


async def _admin_patch(world: World, actor: str, whose: str) -> Request:
    return "PATCH", f"/api/v1/admin/users/{_target(world, actor, whose).id}", {"status": "inactive"}


async def _service_id(world: World, slug: str = "ai-strategy-consultation") -> str:
    return str(await world.owner.fetchval("select id from services where slug = $1", slug))


async def _new_service(world: World, actor: str, whose: str) -> Request:
    slug = world.unique().split("@")[0]
    return (
        "POST",
        "/api/v1/services",
        {
            "name": "Matrix",
            "slug": slug,
            "pricing": {"type": "fixed", "amount": 10, "currency": "USD"},
        },
    )


async def _reorder(world: World, actor: str, whose: str) -> Request:
    ids = [str(r["id"]) for r in await world.owner.fetch("select id from services order by 1")]
    return "POST", "/api/v1/services/reorder", {"ids": ids}


async def _patch_service(world: World, actor: str, whose: str) -> Request:
    return "PATCH", f"/api/v1/services/{await _service_id(world)}", {"description": "Updated"}


async def _delete_service(world: World, actor: str, whose: str) -> Request:
    service_id = await world.owner.fetchval(
        "insert into services (name, slug) values ('Gone', $1) returning id",
        world.unique().split("@")[0],
    )
    return "DELETE", f"/api/v1/services/{service_id}", None


async def _free_slot(world: World, index: int = 0) -> str:
    slots = (
        await world.client.get("/api/v1/services/ai-strategy-consultation/availability")
    ).json()["data"]["slots"]
    return str(slots[index]["start"])


async def _new_booking(world: World, actor: str, whose: str) -> Request:
    return (
        "POST",
        "/api/v1/bookings",
        {
            "serviceId": "ai-strategy-consultation",
            "scheduledAt": await _free_slot(world),
            "timeZone": "UTC",
        },
    )


async def _booking_of(world: World, actor: str, whose: str, status: str = "pending") -> str:
    """A fresh booking (made by the owner) of the actor's own, or of another client."""
    if whose == "own" and actor in ("visitor", "client_a", "client_b"):
        account = world.accounts[actor]
    else:
        account = world.other(actor)
    world.counter[0] += 1
    booking_id = await world.owner.fetchval(
        "insert into service_bookings (user_id, service_id, scheduled_at, duration_minutes, "
        "status) values ($1, $2::uuid, now() + make_interval(days => 40, hours => $3 * 2), 60, "
        "$4) returning id",
        account.id,
        await _service_id(world),
        world.counter[0],
        status,
    )
    return str(booking_id)


def booking_call(
    method: str, suffix: str, body: dict[str, Any] | None = None, status: str = "pending"
) -> Build:
    async def build(world: World, actor: str, whose: str) -> Request:
        booking_id = await _booking_of(world, actor, whose, status)
        return method, f"/api/v1/bookings/{booking_id}{suffix}", body

    return build


async def _reschedule(world: World, actor: str, whose: str) -> Request:
    booking_id = await _booking_of(world, actor, whose)
    return (
        "POST",
        f"/api/v1/bookings/{booking_id}/reschedule",
        {"scheduledAt": await _free_slot(world)},
    )


async def _new_exception(world: World, actor: str, whose: str) -> Request:
    world.counter[0] += 1
    return (
        "POST",
        "/api/v1/admin/availability/exceptions",
        {"date": f"2031-01-{world.counter[0] % 28 + 1:02d}", "reason": "matrix"},
    )


async def _delete_exception(world: World, actor: str, whose: str) -> Request:
    world.counter[0] += 1
    exception_id = await world.owner.fetchval(
        "insert into availability_exceptions (date) values ($1) returning id",
        dt.date(2032, 1, 1) + dt.timedelta(days=world.counter[0]),
    )
    return "DELETE", f"/api/v1/admin/availability/exceptions/{exception_id}", None


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ACTORS, status)


def signed_in(status: int) -> dict[str, int]:
    return {"anonymous": 401} | dict.fromkeys(ACTORS[1:], status)


def staff(status: int) -> dict[str, int]:
    return {
        "anonymous": 401,
        "visitor": 403,
        "client_a": 403,
        "client_b": 403,
        "admin": status,
        "super_admin": status,
    }


# (method, path) → (request builder, {actor: status} or {actor: (own, other)})
Expected = dict[str, int] | dict[str, tuple[int, int]]
MATRIX: dict[tuple[str, str], tuple[Build, Expected]] = {
    ("GET", "/healthz"): (plain("GET", "/healthz"), everyone(200)),
    ("GET", "/readyz"): (plain("GET", "/readyz"), everyone(200)),
    ("GET", "/api/v1/services"): (plain("GET", "/api/v1/services"), everyone(200)),
    ("GET", "/api/v1/services/{slug}"): (
        plain("GET", "/api/v1/services/ai-strategy-consultation"),
        everyone(200),
    ),
    ("POST", "/api/v1/auth/register"): (_register, everyone(201)),
    ("POST", "/api/v1/auth/login"): (_login, everyone(200)),
    ("POST", "/api/v1/auth/refresh"): (_refresh, everyone(200)),
    ("POST", "/api/v1/auth/logout"): (plain("POST", "/api/v1/auth/logout"), signed_in(200)),
    ("POST", "/api/v1/auth/logout-all"): (plain("POST", "/api/v1/auth/logout-all"), signed_in(200)),
    ("GET", "/api/v1/auth/sessions"): (plain("GET", "/api/v1/auth/sessions"), signed_in(200)),
    ("DELETE", "/api/v1/auth/sessions/{session_id}"): (
        _session,
        {"anonymous": (401, 401)} | dict.fromkeys(ACTORS[1:], (200, 404)),
    ),
    ("POST", "/api/v1/auth/password-reset"): (_reset, everyone(200)),
    ("POST", "/api/v1/auth/password-reset/confirm"): (
        plain(
            "POST",
            "/api/v1/auth/password-reset/confirm",
            {"token": "x" * 43, "password": NEW_PASSWORD},
        ),
        everyone(400),
    ),
    ("POST", "/api/v1/auth/password"): (_change_password, signed_in(200)),
    ("POST", "/api/v1/auth/verify-email"): (
        plain("POST", "/api/v1/auth/verify-email", {"token": "y" * 43}),
        everyone(400),
    ),
    ("POST", "/api/v1/auth/verify-email/resend"): (_resend, everyone(200)),
    ("GET", "/api/v1/users/profile"): (plain("GET", "/api/v1/users/profile"), signed_in(200)),
    ("PUT", "/api/v1/users/profile"): (
        plain("PUT", "/api/v1/users/profile", {"company": "Acme"}),
        signed_in(200),
    ),
    ("GET", "/api/v1/admin/users"): (plain("GET", "/api/v1/admin/users"), staff(200)),
    ("GET", "/api/v1/admin/audit"): (plain("GET", "/api/v1/admin/audit"), staff(200)),
    ("GET", "/api/v1/admin/users/{user_id}"): (
        _admin_get,
        {
            "anonymous": (401, 401),
            "visitor": (403, 403),
            "client_a": (403, 403),
            "client_b": (403, 403),
            "admin": (200, 200),
            "super_admin": (200, 200),
        },
    ),
    ("PATCH", "/api/v1/admin/users/{user_id}"): (
        _admin_patch,
        {
            "anonymous": (401, 401),
            "visitor": (403, 403),
            "client_a": (403, 403),
            "client_b": (403, 403),
            "admin": (409, 200),
            "super_admin": (409, 200),
        },
    ),
}
OWN_BOOKING = {
    "anonymous": (401, 401),
    "visitor": (200, 404),
    "client_a": (200, 404),
    "client_b": (200, 404),
    "admin": (200, 200),
    "super_admin": (200, 200),
}
STAFF_ONLY_OBJECT = {
    "anonymous": (401, 401),
    "visitor": (403, 403),
    "client_a": (403, 403),
    "client_b": (403, 403),
    "admin": (200, 200),
    "super_admin": (200, 200),
}
MATRIX |= {
    ("GET", "/api/v1/services/{slug}/availability"): (
        plain("GET", "/api/v1/services/ai-strategy-consultation/availability"),
        everyone(200),
    ),
    ("POST", "/api/v1/services"): (_new_service, staff(201)),
    ("POST", "/api/v1/services/reorder"): (_reorder, staff(200)),
    ("PATCH", "/api/v1/services/{service_id}"): (_patch_service, staff(200)),
    ("DELETE", "/api/v1/services/{service_id}"): (_delete_service, staff(200)),
    ("POST", "/api/v1/bookings"): (
        _new_booking,
        {
            "anonymous": 401,
            "visitor": 201,
            "client_a": 201,
            "client_b": 201,
            "admin": 403,
            "super_admin": 403,
        },
    ),
    ("GET", "/api/v1/bookings"): (plain("GET", "/api/v1/bookings"), signed_in(200)),
    ("GET", "/api/v1/bookings/{booking_id}"): (booking_call("GET", ""), OWN_BOOKING),
    ("GET", "/api/v1/bookings/{booking_id}.ics"): (booking_call("GET", ".ics"), OWN_BOOKING),
    ("PATCH", "/api/v1/bookings/{booking_id}"): (
        booking_call("PATCH", "", {"internalNotes": "n"}),
        STAFF_ONLY_OBJECT,
    ),
    ("POST", "/api/v1/bookings/{booking_id}/confirm"): (
        booking_call("POST", "/confirm", {"meetingLink": "https://meet.example.com/x"}),
        STAFF_ONLY_OBJECT,
    ),
    ("POST", "/api/v1/bookings/{booking_id}/complete"): (
        booking_call("POST", "/complete", status="confirmed"),
        STAFF_ONLY_OBJECT,
    ),
    ("POST", "/api/v1/bookings/{booking_id}/no-show"): (
        booking_call("POST", "/no-show", status="confirmed"),
        STAFF_ONLY_OBJECT,
    ),
    ("POST", "/api/v1/bookings/{booking_id}/cancel"): (
        booking_call("POST", "/cancel", {"reason": "matrix"}),
        OWN_BOOKING,
    ),
    ("POST", "/api/v1/bookings/{booking_id}/reschedule"): (_reschedule, OWN_BOOKING),
    ("GET", "/api/v1/admin/availability"): (plain("GET", "/api/v1/admin/availability"), staff(200)),
    ("PUT", "/api/v1/admin/availability"): (
        plain("PUT", "/api/v1/admin/availability", {"slotMinutes": 30}),
        staff(200),
    ),
    ("GET", "/api/v1/admin/availability/exceptions"): (
        plain("GET", "/api/v1/admin/availability/exceptions"),
        staff(200),
    ),
    ("POST", "/api/v1/admin/availability/exceptions"): (_new_exception, staff(201)),
    ("DELETE", "/api/v1/admin/availability/exceptions/{exception_id}"): (
        _delete_exception,
        staff(200),
    ),
}


async def _contact(world: World, actor: str, whose: str) -> Request:
    return (
        "POST",
        "/api/v1/contact",
        {"name": "Matrix Person", "email": world.unique(), "message": "hi", "type": "general"},
    )


async def _lead_id(world: World) -> str:
    world.counter[0] += 1
    lead_id = await world.owner.fetchval(
        "insert into leads (email) values ($1) returning id", world.unique()
    )
    return str(lead_id)


def lead_call(method: str, suffix: str, body: dict[str, Any] | None = None) -> Build:
    async def build(world: World, actor: str, whose: str) -> Request:
        return method, f"/api/v1/leads/{await _lead_id(world)}{suffix}", body

    return build


async def _rule_id(world: World) -> str:
    return str(
        await world.owner.fetchval(
            "insert into lead_scoring_rules (name, kind, field, points) "
            "values ('m', 'field_present', 'phone', 1) returning id"
        )
    )


RULE = {"name": "Phone", "kind": "field_present", "field": "phone", "points": 3}


def rule_call(method: str, body: dict[str, Any] | None = None) -> Build:
    async def build(world: World, actor: str, whose: str) -> Request:
        return method, f"/api/v1/leads/scoring-rules/{await _rule_id(world)}", body

    return build


async def _subscriber(world: World, actor: str, whose: str) -> Request:
    sub_id = await world.owner.fetchval(
        "insert into newsletter_subscriptions (email) values ($1) returning id", world.unique()
    )
    return "PATCH", f"/api/v1/newsletter/subscribers/{sub_id}", {"tags": ["x"]}


async def _subscribe(world: World, actor: str, whose: str) -> Request:
    return "POST", "/api/v1/newsletter/subscribe", {"email": world.unique()}


async def _unsubscribe(world: World, actor: str, whose: str) -> Request:
    from dreamer.core import signing
    from dreamer.core.security import token_digest

    email = world.unique()
    token = signing.unsubscribe_token("test-secret-" + "x" * 40, email)
    await world.owner.execute(
        "insert into newsletter_subscriptions (email, is_active, unsubscribe_token) "
        "values ($1, true, $2)",
        email,
        token_digest(token),
    )
    return "POST", f"/api/v1/newsletter/unsubscribe?token={token}", None


MATRIX |= {
    ("GET", "/api/v1/contact/token"): (plain("GET", "/api/v1/contact/token"), everyone(200)),
    ("POST", "/api/v1/contact"): (_contact, everyone(201)),
    ("GET", "/api/v1/leads"): (plain("GET", "/api/v1/leads"), staff(200)),
    ("GET", "/api/v1/leads/stats"): (plain("GET", "/api/v1/leads/stats"), staff(200)),
    ("GET", "/api/v1/leads/export.csv"): (plain("GET", "/api/v1/leads/export.csv"), staff(200)),
    ("POST", "/api/v1/leads/import"): (plain("POST", "/api/v1/leads/import"), staff(422)),
    ("GET", "/api/v1/leads/scoring-rules"): (
        plain("GET", "/api/v1/leads/scoring-rules"),
        staff(200),
    ),
    ("POST", "/api/v1/leads/scoring-rules"): (
        plain("POST", "/api/v1/leads/scoring-rules", RULE),
        staff(201),
    ),
    ("PUT", "/api/v1/leads/scoring-rules/{rule_id}"): (rule_call("PUT", RULE), staff(200)),
    ("DELETE", "/api/v1/leads/scoring-rules/{rule_id}"): (rule_call("DELETE"), staff(200)),
    ("GET", "/api/v1/leads/{lead_id}"): (lead_call("GET", ""), staff(200)),
    ("PATCH", "/api/v1/leads/{lead_id}"): (lead_call("PATCH", "", {"tags": ["m"]}), staff(200)),
    ("GET", "/api/v1/leads/{lead_id}/score"): (lead_call("GET", "/score"), staff(200)),
    ("GET", "/api/v1/leads/{lead_id}/activities"): (lead_call("GET", "/activities"), staff(200)),
    ("POST", "/api/v1/leads/{lead_id}/activities"): (
        lead_call("POST", "/activities", {"activityType": "note", "description": "n"}),
        staff(201),
    ),
    ("POST", "/api/v1/leads/{lead_id}/convert"): (lead_call("POST", "/convert"), staff(200)),
    ("POST", "/api/v1/newsletter/subscribe"): (_subscribe, everyone(202)),
    ("POST", "/api/v1/newsletter/confirm"): (
        plain("POST", "/api/v1/newsletter/confirm", {"token": "z" * 43}),
        everyone(400),
    ),
    ("POST", "/api/v1/newsletter/unsubscribe"): (_unsubscribe, everyone(200)),
    ("GET", "/api/v1/newsletter/unsubscribe"): (
        plain("GET", "/api/v1/newsletter/unsubscribe?token=" + "q" * 43),
        everyone(200),
    ),
    ("GET", "/api/v1/newsletter/subscribers"): (
        plain("GET", "/api/v1/newsletter/subscribers"),
        staff(200),
    ),
    ("GET", "/api/v1/newsletter/subscribers/export.csv"): (
        plain("GET", "/api/v1/newsletter/subscribers/export.csv"),
        staff(200),
    ),
    ("PATCH", "/api/v1/newsletter/subscribers/{subscription_id}"): (_subscriber, staff(200)),
    ("GET", "/api/v1/newsletter/stats"): (plain("GET", "/api/v1/newsletter/stats"), staff(200)),
    ("POST", "/api/v1/newsletter/import"): (plain("POST", "/api/v1/newsletter/import"), staff(422)),
}
# Content: public reads for everyone (staff also see drafts), every write for staff only.
CONTENT_INSERT = {
    "pages": "insert into content_pages (title, slug, content, status, published_at)"
    " values ('M', $1, '{\"blocks\": []}', 'published', now()) returning id",
    "case-studies": "insert into case_studies (title, slug, status, published_at)"
    " values ('M', $1, 'published', now()) returning id",
    "testimonials": "insert into testimonials (client_name, content, status, published_at)"
    " values ('M', 'Fine work', 'published', now()) returning id",
}


async def _content_item(world: World, kind: str) -> tuple[str, str]:
    world.counter[0] += 1
    slug = f"matrix-{world.counter[0]}-{uuid.uuid4().hex[:6]}"
    item_id = await world.owner.fetchval(
        CONTENT_INSERT[kind], *([slug] if kind != "testimonials" else [])
    )
    return str(item_id), slug


def content_call(
    method: str, kind: str, suffix: str = "", body: dict[str, Any] | None = None
) -> Build:
    async def build(world: World, actor: str, whose: str) -> Request:
        item_id, _slug = await _content_item(world, kind)
        return method, f"/api/v1/{kind}/{item_id}{suffix}", body

    return build


def content_by_slug(kind: str) -> Build:
    async def build(world: World, actor: str, whose: str) -> Request:
        _id, slug = await _content_item(world, kind)
        return "GET", f"/api/v1/{kind}/{slug}", None

    return build


def content_new(kind: str) -> Build:
    async def build(world: World, actor: str, whose: str) -> Request:
        world.counter[0] += 1
        slug = f"new-{world.counter[0]}-{uuid.uuid4().hex[:6]}"
        body: dict[str, Any] = {
            "pages": {"title": "New", "slug": slug},
            "case-studies": {"title": "New", "slug": slug},
            "testimonials": {"clientName": "New", "content": "Great"},
        }[kind]
        return "POST", f"/api/v1/{kind}", body

    return build


CONTENT_PATCH = {
    "pages": {"title": "Changed"},
    "case-studies": {"title": "Changed"},
    "testimonials": {"content": "Changed"},
}
for _kind in ("pages", "case-studies", "testimonials"):
    _item = f"/api/v1/{_kind}/{{item_id}}"
    MATRIX |= {
        ("GET", f"/api/v1/{_kind}"): (plain("GET", f"/api/v1/{_kind}"), everyone(200)),
        ("POST", f"/api/v1/{_kind}"): (content_new(_kind), staff(201)),
        ("PATCH", _item): (content_call("PATCH", _kind, "", CONTENT_PATCH[_kind]), staff(200)),
        ("DELETE", _item): (content_call("DELETE", _kind), staff(200)),
        ("POST", f"{_item}/publish"): (content_call("POST", _kind, "/publish", {}), staff(200)),
        ("POST", f"{_item}/unpublish"): (content_call("POST", _kind, "/unpublish"), staff(200)),
        ("POST", f"{_item}/archive"): (content_call("POST", _kind, "/archive"), staff(200)),
        ("GET", f"{_item}/revisions"): (content_call("GET", _kind, "/revisions"), staff(200)),
        ("GET", f"{_item}/revisions/{{number}}"): (
            content_call("GET", _kind, "/revisions/1"),
            staff(200),
        ),
        ("GET", f"{_item}/revisions/diff"): (
            content_call("GET", _kind, "/revisions/diff?from=1&to=1"),
            staff(200),
        ),
        ("POST", f"{_item}/revisions/{{number}}/restore"): (
            content_call("POST", _kind, "/revisions/1/restore"),
            staff(200),
        ),
    }
    if _kind != "testimonials":
        MATRIX[("GET", f"/api/v1/{_kind}/{{slug}}")] = (content_by_slug(_kind), everyone(200))
MATRIX |= {
    ("GET", "/api/v1/search"): (plain("GET", "/api/v1/search?q=strategy"), everyone(200)),
    ("GET", "/api/v1/seo/meta"): (
        plain("GET", "/api/v1/seo/meta?path=/services/ai-strategy-consultation"),
        everyone(200),
    ),
    ("GET", "/api/v1/seo/meta/{path}"): (
        plain("GET", "/api/v1/seo/meta/services/ai-strategy-consultation"),
        everyone(200),
    ),
    ("GET", "/api/v1/seo/structured-data/{kind}"): (
        plain("GET", "/api/v1/seo/structured-data/services"),
        everyone(200),
    ),
    ("GET", "/sitemap.xml"): (plain("GET", "/sitemap.xml"), everyone(200)),
    ("GET", "/robots.txt"): (plain("GET", "/robots.txt"), everyone(200)),
}


# Chat: a conversation is its user's, or its anonymous visitor's (the client's dreamer_vid
# cookie); another's is as absent as one that never existed, except for staff.
async def _conversation_of(world: World, actor: str, whose: str) -> str:
    user_id: uuid.UUID | None = None
    visitor: str | None = uuid.uuid4().hex  # "other": an anonymous stranger's
    if whose == "own" and actor == "anonymous":
        if world.client.cookies.get("dreamer_vid") is None:
            await world.client.get("/api/v1/chat/models")  # the API sets the visitor cookie
        visitor = world.client.cookies["dreamer_vid"]
    elif whose == "own":
        user_id, visitor = world.accounts[actor].id, None
    conversation_id = await world.owner.fetchval(
        "insert into chat_conversations (user_id, session_id) values ($1, $2) returning id",
        user_id,
        visitor,
    )
    return str(conversation_id)


def chat_call(method: str, suffix: str = "", body: dict[str, Any] | None = None) -> Build:
    async def build(world: World, actor: str, whose: str) -> Request:
        conversation_id = await _conversation_of(world, actor, whose)
        return method, f"/api/v1/chat/conversations/{conversation_id}{suffix}", body

    return build


def own_or_staff(own: int) -> dict[str, tuple[int, int]]:
    return {actor: (own, own if actor in ("admin", "super_admin") else 404) for actor in ACTORS}


QUESTION = {"content": "Which services do you offer?"}
MATRIX |= {
    ("POST", "/api/v1/chat/conversations"): (
        plain("POST", "/api/v1/chat/conversations", {}),
        everyone(201),
    ),
    ("GET", "/api/v1/chat/conversations"): (
        plain("GET", "/api/v1/chat/conversations"),
        everyone(200),
    ),
    ("GET", "/api/v1/chat/conversations/{conversation_id}"): (chat_call("GET"), own_or_staff(200)),
    ("PATCH", "/api/v1/chat/conversations/{conversation_id}"): (
        chat_call("PATCH", "", {"title": "Renamed"}),
        own_or_staff(200),
    ),
    ("DELETE", "/api/v1/chat/conversations/{conversation_id}"): (
        chat_call("DELETE"),
        own_or_staff(200),
    ),
    ("POST", "/api/v1/chat/conversations/{conversation_id}/messages"): (
        chat_call("POST", "/messages", QUESTION),
        own_or_staff(201),
    ),
    ("GET", "/api/v1/chat/models"): (plain("GET", "/api/v1/chat/models"), everyone(200)),
    ("POST", "/api/v1/chat/completions"): (
        plain("POST", "/api/v1/chat/completions", {"messages": [{"role": "user", **QUESTION}]}),
        everyone(200),
    ),
    ("GET", "/api/v1/admin/chat/usage"): (plain("GET", "/api/v1/admin/chat/usage"), staff(200)),
    ("GET", "/api/v1/admin/chat/conversations"): (
        plain("GET", "/api/v1/admin/chat/conversations?q=services"),
        staff(200),
    ),
    ("GET", "/api/v1/admin/chat/settings"): (
        plain("GET", "/api/v1/admin/chat/settings"),
        staff(200),
    ),
    ("PUT", "/api/v1/admin/chat/settings"): (
        plain("PUT", "/api/v1/admin/chat/settings", {"systemPrompt": "Be brief, {site}."}),
        staff(200),
    ),
}
# The website's AI demos: open to anyone (per-IP limits); without ELEVENLABS_API_KEY the
# voices answer 503 to everyone alike.
MATRIX |= {
    ("POST", "/api/v1/showcase/analyze-document"): (
        plain("POST", "/api/v1/showcase/analyze-document", {"text": "One. Two sentences."}),
        everyone(200),
    ),
    ("POST", "/api/v1/elevenlabs/clone-voice"): (
        plain("POST", "/api/v1/elevenlabs/clone-voice", {"name": "Me"}),
        everyone(503),
    ),
    ("POST", "/api/v1/elevenlabs/text-to-speech"): (
        plain("POST", "/api/v1/elevenlabs/text-to-speech", {"text": "Hi", "voiceId": "v1"}),
        everyone(503),
    ),
}
# GDPR: one's own export and erasure (the password confirms it); staff for other accounts.
MATRIX |= {
    ("GET", "/api/v1/users/me/export"): (plain("GET", "/api/v1/users/me/export"), signed_in(200)),
    ("DELETE", "/api/v1/users/me"): (
        plain("DELETE", "/api/v1/users/me", {"password": PASSWORD, "dryRun": True}),
        signed_in(200),
    ),
    ("GET", "/api/v1/admin/users/{user_id}/export"): (
        user_call("GET", "/export"),
        staff(200),
    ),
    ("DELETE", "/api/v1/admin/users/{user_id}"): (
        user_call("DELETE", "?dryRun=true"),
        staff(200),
    ),
}
# Analytics: anyone sends events (per-IP limit); only staff read the reports.
MATRIX |= {
    ("POST", "/api/v1/analytics/events"): (
        plain("POST", "/api/v1/analytics/events", {"eventType": "page_view", "pageUrl": "/"}),
        everyone(202),
    ),
    ("POST", "/api/v1/analytics/web-vitals"): (
        plain(
            "POST",
            "/api/v1/analytics/web-vitals",
            {"metric": "LCP", "value": 1200.5, "score": "good", "url": "https://x.test/"},
        ),
        everyone(202),
    ),
}
for _report in ("traffic", "pages", "sources", "events", "lead-funnel", "revenue", "users"):
    MATRIX[("GET", f"/api/v1/admin/analytics/{_report}")] = (
        plain("GET", f"/api/v1/admin/analytics/{_report}"),
        staff(200),
    )
MATRIX[("GET", "/api/v1/admin/analytics/funnel")] = (
    plain("GET", "/api/v1/admin/analytics/funnel?step=page_view&step=contact_submit"),
    staff(200),
)
MATRIX[("GET", "/api/v1/admin/analytics/dashboard")] = (
    plain("GET", "/api/v1/admin/analytics/dashboard"),
    staff(200),
)
# The pages mailed links open: shown to anyone; their forms need the page's own cookie.
for _page in ("/verify-email", "/reset-password", "/newsletter/confirm"):
    MATRIX[("GET", _page)] = (plain("GET", f"{_page}?token=" + "q" * 43), everyone(200))
    MATRIX[("POST", _page)] = (plain("POST", _page, {"token": "q" * 43}), everyone(403))
MATRIX[("GET", "/forgot-password")] = (plain("GET", "/forgot-password"), everyone(200))
MATRIX[("POST", "/forgot-password")] = (plain("POST", "/forgot-password"), everyone(403))
# Not API routes: documentation pages and the permanent redirect of old paths.
UNLISTED = {
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/openapi.json"),
}


def test_every_route_has_a_row(tmp_path: Path) -> None:
    app = create_app(make_settings(ClonedDatabase("x", *["postgresql://x@/x"] * 4), tmp_path))
    schema = app.openapi()
    routes = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    missing = routes - set(MATRIX) - UNLISTED
    assert missing == set(), f"routes without an access-matrix row: {sorted(missing)}"
    stale = set(MATRIX) - routes
    assert stale == set(), f"rows for routes that no longer exist: {sorted(stale)}"


@pytest.fixture
async def world(cluster: Cluster, tmp_path: Path) -> AsyncIterator[World]:
    from dreamer.seed.runner import run_seed

    db = await clone_database(cluster)
    settings = make_settings(
        db,
        tmp_path,
        rate_limit_register_ip="1000/60",
        rate_limit_login_ip="1000/60",
        rate_limit_login_account="1000/60",
        rate_limit_login_account_ip="1000/60",
        rate_limit_reset_ip="1000/60",
        rate_limit_resend_ip="1000/60",
        rate_limit_contact_ip="1000/60",
        rate_limit_newsletter_ip="1000/60",
    )
    await run_seed(settings, db.owner_url, demo=False, only_if_empty=False)
    app = create_app(settings)
    owner = await asyncpg.connect(db.owner_url)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        accounts = {
            actor: await make_account(client, owner, f"{actor}.matrix@example.com", role=role)
            for actor, role in ROLES.items()
        }
        yield World(client, owner, accounts, Conformance(app.openapi()))
    await owner.close()
    await close_pools(app)
    await drop_database(cluster, db.name)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
async def test_access(world: World, route: tuple[str, str]) -> None:
    build, expected = MATRIX[route]
    failures = []
    for actor in ACTORS:
        wanted = expected[actor]
        cases = (
            (("own", wanted[0]), ("other", wanted[1]))
            if isinstance(wanted, tuple)
            else (("-", wanted),)
        )
        for whose, status in cases:
            method, url, body = await build(world, actor, whose)
            response = await world.client.request(
                method, url, json=body, headers=world.headers(actor), follow_redirects=False
            )
            if response.status_code != status:
                failures.append(
                    f"{actor}/{whose}: {response.status_code} != {status} ({response.text[:120]})"
                )
            # The body must be what /docs says it is, for every role and outcome.
            for problem in world.conformance.problems(route[0], route[1], response):
                failures.append(f"{actor}/{whose}: {problem}")
    assert failures == []
