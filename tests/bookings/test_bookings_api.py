"""Bookings through the API: availability, booking, the workflow, reschedule, calendars, mail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest

from tests.bookings.conftest import book
from tests.factories import Account, make_account
from tests.harness import MailSink

Deliver = Callable[[], Awaitable[None]]
pytestmark = pytest.mark.usefixtures("bookable")


async def _people(client: httpx.AsyncClient, owner: asyncpg.Connection) -> dict[str, Account]:
    return {
        "a": await make_account(client, owner, "a@example.com", role="visitor"),
        "b": await make_account(client, owner, "b@example.com", role="client"),
        "admin": await make_account(client, owner, "staff@example.com", role="admin"),
    }


async def test_availability_in_the_askers_time_zone(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/services/ai-strategy-consultation/availability",
        params={"from": "2027-03-26T00:00:00Z", "to": "2027-03-30T00:00:00Z", "tz": "Europe/Paris"},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["durationMinutes"] == 60 and data["timeZone"] == "Europe/Paris"
    starts = [s["start"] for s in data["slots"]]
    # London 09:00 on Friday 26 (GMT) is 10:00 in Paris (CET); on Monday 29 (BST) 10:00 CEST
    assert starts[0] == "2027-03-26T10:00:00+01:00"
    assert "2027-03-29T10:00:00+02:00" in starts
    assert not any(s.startswith(("2027-03-27", "2027-03-28")) for s in starts)  # weekend


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"tz": "Mars/Olympus"}, 422),
        ({"from": "2027-03-30T00:00:00Z", "to": "2027-03-26T00:00:00Z"}, 422),
        ({"from": "2027-03-01T00:00:00Z", "to": "2027-06-01T00:00:00Z"}, 422),
    ],
)
async def test_availability_bad_input(
    client: httpx.AsyncClient, params: dict[str, str], status: int
) -> None:
    response = await client.get(
        "/api/v1/services/ai-strategy-consultation/availability", params=params
    )
    assert response.status_code == status
    assert (await client.get("/api/v1/services/nope/availability")).status_code == 404


async def test_book_then_the_slot_is_gone(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    people = await _people(client, owner_conn)
    await owner_conn.execute(
        "insert into leads (email, user_id) values ('a@example.com', $1)", people["a"].id
    )
    created = await book(client, people["a"].auth)
    assert created.status_code == 201, created.text
    booking = created.json()["data"]
    assert booking["status"] == "pending" and booking["durationMinutes"] == 60
    assert booking["scheduledAt"].startswith("2027-03-24T10:00:00")
    assert "internalNotes" not in booking
    taken = await book(client, people["b"].auth)
    assert taken.status_code == 409
    assert taken.json()["conflict"]["start"].startswith("2027-03-24T10:00:00")
    overlapping = await book(client, people["b"].auth, when="2027-03-24T10:30:00+00:00")
    assert overlapping.status_code == 409
    slots = (
        await client.get(
            "/api/v1/services/ai-strategy-consultation/availability",
            params={"from": "2027-03-24T00:00:00Z", "to": "2027-03-25T00:00:00Z"},
        )
    ).json()["data"]["slots"]
    starts = {s["start"][11:16] for s in slots}
    assert not starts & {"09:30", "10:00", "10:30", "11:00"} and "11:30" in starts
    activity = await owner_conn.fetchval(
        "select activity_type from lead_activities where user_id is null or true"
    )
    assert activity == "booking_requested"
    await deliver()
    [message] = mail.to("a@example.com")
    assert "request" in message["Subject"]
    attachment = next(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert f"UID:{booking['id']}@dreamer" in attachment.get_content()


async def test_idempotency_key_replays_the_same_booking(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    people = await _people(client, owner_conn)
    headers = {**people["a"].auth, "Idempotency-Key": "retry-after-timeout-1"}
    first = await book(client, headers)
    replay = await book(client, headers)  # the client never saw the first answer
    assert first.status_code == 201 and replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert first.json()["data"]["id"] == replay.json()["data"]["id"]
    assert await owner_conn.fetchval("select count(*) from service_bookings") == 1


async def test_who_may_book(client: httpx.AsyncClient, owner_conn: asyncpg.Connection) -> None:
    people = await _people(client, owner_conn)
    anonymous = await book(client, {})
    assert anonymous.status_code == 401
    assert "Register" in anonymous.json()["detail"]
    assert (await book(client, people["admin"].auth)).status_code == 403
    not_a_slot = await book(client, people["a"].auth, when="2027-03-24T10:10:00+00:00")
    assert not_a_slot.status_code == 422
    too_soon = await book(client, people["a"].auth, when="2027-03-22T14:00:00+00:00")
    assert too_soon.status_code == 422
    mass = await book(client, people["a"].auth, status="confirmed")
    assert mass.status_code == 422


async def test_workflow(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, mail: MailSink, deliver: Deliver
) -> None:
    people = await _people(client, owner_conn)
    booking = (await book(client, people["a"].auth)).json()["data"]
    url = f"/api/v1/bookings/{booking['id']}"
    link = {"meetingLink": "https://meet.example.com/abc"}
    assert (
        await client.post(f"{url}/confirm", json=link, headers=people["a"].auth)
    ).status_code == 403
    assert (await client.post(f"{url}/complete", headers=people["admin"].auth)).status_code == 409
    confirmed = await client.post(f"{url}/confirm", json=link, headers=people["admin"].auth)
    assert confirmed.status_code == 200
    assert confirmed.json()["data"]["meetingLink"] == link["meetingLink"]
    role = await owner_conn.fetchval("select role from users where id = $1", people["a"].id)
    assert role == "client"  # the first confirmed booking makes a visitor a client
    again = await client.post(f"{url}/confirm", json=link, headers=people["admin"].auth)
    assert again.status_code == 409
    done = await client.post(f"{url}/complete", headers=people["admin"].auth)
    assert done.json()["data"]["status"] == "completed"
    assert done.json()["data"]["completedAt"] is not None
    for action in ("cancel", "no-show", "complete"):
        late = await client.post(
            f"{url}/{action}", json={} if action == "cancel" else None, headers=people["admin"].auth
        )
        assert late.status_code == 409, action
    await deliver()
    assert any("confirmed" in m["Subject"] for m in mail.to("a@example.com"))


async def test_internal_notes_are_staff_only(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    people = await _people(client, owner_conn)
    booking = (await book(client, people["a"].auth)).json()["data"]
    url = f"/api/v1/bookings/{booking['id']}"
    noted = await client.patch(
        url, json={"internalNotes": "VIP, budget approved"}, headers=people["admin"].auth
    )
    assert noted.status_code == 200 and noted.json()["data"]["internalNotes"]
    mine = await client.get(url, headers=people["a"].auth)
    assert "internalNotes" not in mine.json()["data"]
    assert "VIP" not in mine.text
    listed = await client.get("/api/v1/bookings", headers=people["a"].auth)
    assert "VIP" not in listed.text
    assert (
        await client.patch(url, json={"internalNotes": "x"}, headers=people["a"].auth)
    ).status_code == 403


async def test_clients_cannot_touch_each_others_bookings(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    people = await _people(client, owner_conn)
    booking = (await book(client, people["a"].auth)).json()["data"]
    url = f"/api/v1/bookings/{booking['id']}"
    other = people["b"].auth
    assert (await client.get(url, headers=other)).status_code == 404
    assert (await client.get(f"{url}.ics", headers=other)).status_code == 404
    assert (
        await client.post(f"{url}/cancel", json={"reason": "x"}, headers=other)
    ).status_code == 404
    assert (
        await client.post(
            f"{url}/reschedule", json={"scheduledAt": "2027-03-25T10:00:00+00:00"}, headers=other
        )
    ).status_code == 404
    assert (await client.get("/api/v1/bookings", headers=other)).json()["data"] == []
    status = await owner_conn.fetchval("select status from service_bookings")
    assert status == "pending"


async def test_cancel_cutoff(
    client: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
    frozen_now: Callable[[dt.datetime | None], None],
) -> None:
    people = await _people(client, owner_conn)
    booking = (await book(client, people["a"].auth)).json()["data"]
    url = f"/api/v1/bookings/{booking['id']}/cancel"
    assert (await client.post(url, json={}, headers=people["a"].auth)).status_code == 422
    frozen_now(dt.datetime(2027, 3, 23, 11, 0, tzinfo=dt.UTC))  # 23 hours before
    late = await client.post(url, json={"reason": "ill"}, headers=people["a"].auth)
    assert late.status_code == 409
    staff = await client.post(url, json={"reason": "client called"}, headers=people["admin"].auth)
    assert staff.status_code == 200
    assert staff.json()["data"]["cancellationReason"] == "client called"


async def test_client_cancels_in_time_and_calendar_says_cancel(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    people = await _people(client, owner_conn)
    booking = (await book(client, people["a"].auth)).json()["data"]
    url = f"/api/v1/bookings/{booking['id']}"
    before = await client.get(f"{url}.ics", headers=people["a"].auth)
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/calendar")
    assert "METHOD:REQUEST" in before.text and "SEQUENCE:0" in before.text
    assert before.text.endswith("\r\n")
    cancelled = await client.post(
        f"{url}/cancel", json={"reason": "plans changed"}, headers=people["a"].auth
    )
    assert cancelled.status_code == 200
    after = await client.get(f"{url}.ics", headers=people["a"].auth)
    assert "METHOD:CANCEL" in after.text and "STATUS:CANCELLED" in after.text
    assert "SEQUENCE:1" in after.text
    uid = next(line for line in before.text.splitlines() if line.startswith("UID:"))
    assert uid in after.text
    rebook = await book(client, people["b"].auth)
    assert rebook.status_code == 201  # the slot is free again


async def test_reschedule(client: httpx.AsyncClient, owner_conn: asyncpg.Connection) -> None:
    people = await _people(client, owner_conn)
    mine = (await book(client, people["a"].auth)).json()["data"]
    theirs = (await book(client, people["b"].auth, when="2027-03-25T14:00:00+00:00")).json()["data"]
    url = f"/api/v1/bookings/{mine['id']}/reschedule"
    into_taken = await client.post(
        url, json={"scheduledAt": theirs["scheduledAt"]}, headers=people["a"].auth
    )
    assert into_taken.status_code == 409
    unchanged = await owner_conn.fetchrow(
        "select scheduled_at, sequence from service_bookings where id = $1::uuid", mine["id"]
    )
    assert unchanged is not None
    assert unchanged["scheduled_at"] == dt.datetime(2027, 3, 24, 10, tzinfo=dt.UTC)
    moved = await client.post(
        url,
        json={"scheduledAt": "2027-03-25T11:00:00", "timeZone": "Europe/Paris"},
        headers=people["a"].auth,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["scheduledAt"].startswith("2027-03-25T10:00:00")  # 11:00 Paris
    assert moved.json()["data"]["timeZone"] == "Europe/Paris"
    staff_view = await client.get(f"/api/v1/bookings/{mine['id']}", headers=people["admin"].auth)
    history = staff_view.json()["data"]["history"]
    assert [h["event"] for h in history] == ["requested", "rescheduled"]
    assert history[1]["from"].startswith("2027-03-24T10:00")
    # the old slot is free again: same booking, one row, never two
    assert (await book(client, people["b"].auth)).status_code == 201


async def test_staff_list_filters(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    people = await _people(client, owner_conn)
    await book(client, people["a"].auth)
    await book(client, people["b"].auth, when="2027-03-25T14:00:00+00:00")
    staff = people["admin"].auth
    everyone = (await client.get("/api/v1/bookings", headers=staff)).json()
    assert len(everyone["data"]) == 2
    page = (await client.get("/api/v1/bookings", params={"limit": 1}, headers=staff)).json()
    assert page["meta"]["hasMore"] is True
    rest = (
        await client.get(
            "/api/v1/bookings",
            params={"limit": 1, "cursor": page["meta"]["nextCursor"]},
            headers=staff,
        )
    ).json()
    assert rest["data"][0]["id"] != page["data"][0]["id"]
    ranged = (
        await client.get("/api/v1/bookings", params={"from": "2027-03-25T00:00:00Z"}, headers=staff)
    ).json()
    assert len(ranged["data"]) == 1


async def test_the_promotion_to_client_keeps_the_session(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    """(Refreshing, downgrades and suspensions: tests/auth/test_admin_users.py.)"""
    people = await _people(client, owner_conn)
    visitor = people["a"]
    booking = (await book(client, visitor.auth)).json()["data"]
    link = {"meetingLink": "https://meet.example.com/abc"}
    confirmed = await client.post(
        f"/api/v1/bookings/{booking['id']}/confirm", json=link, headers=people["admin"].auth
    )
    assert confirmed.status_code == 200
    # the visitor's token still works, as the visitor it carries, until it is refreshed
    profile = await client.get("/api/v1/users/profile", headers=visitor.auth)
    assert profile.status_code == 200 and profile.json()["data"]["role"] == "client"
    mine = await client.get("/api/v1/bookings", headers=visitor.auth)
    assert mine.status_code == 200 and len(mine.json()["data"]) == 1
