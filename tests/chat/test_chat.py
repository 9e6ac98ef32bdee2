"""The chat assistant through the API: conversations of visitors and users, who can see which,
the built-in assistant's answers (sourced, priced, honest when it does not know), streaming,
the one-shot completions contract (quotas: test_quotas.py)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from dreamer.core.config import Settings
from dreamer.seed.runner import run_seed
from tests.factories import Account, make_account

A = {"X-Visitor-Id": uuid.UUID(int=0xA).hex}
B = {"X-Visitor-Id": uuid.UUID(int=0xB).hex}


@pytest.fixture
async def seeded(settings: Settings) -> None:
    assert settings.database_owner_url
    await run_seed(settings, settings.database_owner_url, demo=True, only_if_empty=False)


async def _start(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    created = await client.post("/api/v1/chat/conversations", json={}, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["data"]["id"])


async def _ask(
    client: httpx.AsyncClient, headers: dict[str, str], conversation: str, text: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/chat/conversations/{conversation}/messages",
        json={"content": text},
        headers=headers,
    )


async def test_the_assistant_answers_from_the_site(client: httpx.AsyncClient, seeded: None) -> None:
    conversation = await _start(client, A)
    asked = await _ask(client, A, conversation, "How much does the AI training workshop cost?")
    assert asked.status_code == 201, asked.text
    reply = asked.json()["data"]["reply"]
    assert "AI Training Workshop" in reply["content"]
    assert "2,500 USD" in reply["content"] and "/book" in reply["content"]
    assert {
        "kind": "service",
        "title": "AI Training Workshop",
        "path": "/services/ai-training-workshop",
    } in reply["sources"]
    assert reply["modelUsed"] == "dreamer-site-assistant"
    assert reply["promptTokens"] > 0 and reply["completionTokens"] > 0
    assert reply["tokensUsed"] == reply["promptTokens"] + reply["completionTokens"]
    # a case study is found by what it is about
    asked = await _ask(client, A, conversation, "Have you done demand forecasting for logistics?")
    sources = asked.json()["data"]["reply"]["sources"]
    assert sources[0]["path"] == "/case-studies/logistics-demand-forecasting"
    # and an unrelated question gets an honest answer, no sources
    asked = await _ask(client, A, conversation, "What will the weather be in Lisbon tomorrow?")
    reply = asked.json()["data"]["reply"]
    assert "don't know" in reply["content"] and reply["sources"] == []
    shown = (await client.get(f"/api/v1/chat/conversations/{conversation}", headers=A)).json()
    messages = shown["data"]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3
    assert shown["data"]["title"] == "How much does the AI training workshop cost?"


async def test_a_conversation_is_its_owners(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, seeded: None
) -> None:
    mine = await _start(client, A)
    path = f"/api/v1/chat/conversations/{mine}"
    for method, body in (("GET", None), ("PATCH", {"title": "x"}), ("DELETE", None)):
        stolen = await client.request(method, path, json=body, headers=B)
        assert stolen.status_code == 404, method
    assert (await _ask(client, B, mine, "hello there")).status_code == 404
    assert (await client.get("/api/v1/chat/conversations", headers=B)).json()["data"] == []
    assert [
        c["id"] for c in (await client.get("/api/v1/chat/conversations", headers=A)).json()["data"]
    ] == [mine]
    staff = await make_account(client, owner_conn, "support@example.com", role="admin")
    assert (await client.get(path, headers=staff.auth)).status_code == 200
    # a signed-in user's conversations are theirs on any device
    user: Account = await make_account(client, owner_conn, "asker@example.com")
    theirs = await _start(client, {**user.auth, **A})
    assert (await client.get(f"/api/v1/chat/conversations/{theirs}", headers=A)).status_code == 404
    again = await client.get(f"/api/v1/chat/conversations/{theirs}", headers={**user.auth, **B})
    assert again.status_code == 200


async def test_archive_and_delete(client: httpx.AsyncClient, seeded: None) -> None:
    conversation = await _start(client, A)
    path = f"/api/v1/chat/conversations/{conversation}"
    archived = await client.patch(path, json={"isActive": False, "title": "Old"}, headers=A)
    assert archived.json()["data"]["isActive"] is False
    refused = await _ask(client, A, conversation, "still there?")
    assert refused.status_code == 409
    assert (await client.delete(path, headers=A)).status_code == 200
    assert (await client.get(path, headers=A)).status_code == 404


async def test_streaming_sends_tokens_then_the_stored_exchange(
    client: httpx.AsyncClient, seeded: None
) -> None:
    conversation = await _start(client, A)
    async with client.stream(
        "POST",
        f"/api/v1/chat/conversations/{conversation}/messages",
        json={"content": "Tell me about AI strategy consultation"},
        headers={**A, "Accept": "text/event-stream"},
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = (await response.aread()).decode()
    events = [block.split("\n") for block in body.strip().split("\n\n")]
    names = [e[0].removeprefix("event: ") for e in events]
    assert names[-1] == "done" and set(names[:-1]) == {"token"} and len(names) > 3
    text = "".join(json.loads(e[1].removeprefix("data: "))["text"] for e in events[:-1])
    done = json.loads(events[-1][1].removeprefix("data: "))
    assert text == done["reply"]["content"]
    stored = (await client.get(f"/api/v1/chat/conversations/{conversation}", headers=A)).json()
    assert stored["data"]["messages"][-1]["content"] == text


async def test_completions_and_models(client: httpx.AsyncClient, seeded: None) -> None:
    models = (await client.get("/api/v1/chat/models")).json()["data"]
    assert models == [{"provider": "builtin", "model": "dreamer-site-assistant"}]
    body: dict[str, Any] = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "Do you run AI training workshops?"},
        ]
    }
    done = await client.post("/api/v1/chat/completions", json=body, headers=A)
    assert done.status_code == 200, done.text
    data = done.json()["data"]
    assert "AI Training Workshop" in data["message"]["content"]
    assert data["usage"]["totalTokens"] == data["message"]["tokensUsed"]
    shown = await client.get(f"/api/v1/chat/conversations/{data['conversationId']}", headers=A)
    roles = [m["role"] for m in shown.json()["data"]["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]  # the system turn is not kept
    follow = await client.post(
        "/api/v1/chat/completions",
        json={
            "messages": [{"role": "user", "content": "And the price?"}],
            "conversationId": data["conversationId"],
        },
        headers=B,
    )
    assert follow.status_code == 404  # not B's conversation
    no_question = await client.post(
        "/api/v1/chat/completions",
        json={"messages": [{"role": "assistant", "content": "x"}]},
        headers=A,
    )
    assert no_question.status_code == 422
    too_long = await client.post(
        "/api/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "x" * 4001}]},
        headers=A,
    )
    assert too_long.status_code == 422


async def test_signing_in_takes_the_visitors_conversations_along(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, seeded: None
) -> None:
    before = await _start(client, A)
    await _ask(client, A, before, "What does the AI strategy consultation include?")
    user = await make_account(client, owner_conn, "returning@example.com")
    listed = await client.get("/api/v1/chat/conversations", headers={**user.auth, **A})
    assert [c["id"] for c in listed.json()["data"]] == [before]
    owner = await owner_conn.fetchval(
        "select user_id from chat_conversations where id = $1", uuid.UUID(before)
    )
    assert owner == user.id
    # now the account's: the anonymous visitor alone no longer sees it, the account anywhere does
    assert (await client.get(f"/api/v1/chat/conversations/{before}", headers=A)).status_code == 404
    elsewhere = await client.get(f"/api/v1/chat/conversations/{before}", headers={**user.auth, **B})
    assert elsewhere.status_code == 200 and len(elsewhere.json()["data"]["messages"]) == 2


async def test_a_contact_request_in_the_chat_lands_on_the_lead(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, seeded: None
) -> None:
    conversation = await _start(client, A)
    asked = await _ask(
        client,
        A,
        conversation,
        "We need a team workshop. Please contact me at jane.doe@example.org next week.",
    )
    reply = asked.json()["data"]["reply"]
    assert "jane.doe@example.org" in reply["content"]
    lead = await owner_conn.fetchrow(
        "select id, source::text, inquiry_type from leads where email = 'jane.doe@example.org'"
    )
    assert lead is not None and lead["inquiry_type"] == "chat"
    activity = await owner_conn.fetchrow(
        "select activity_type, metadata from lead_activities where lead_id = $1", lead["id"]
    )
    assert activity["activity_type"] == "inquiry"
    assert json.loads(activity["metadata"])["source"]["conversation_id"] == conversation
    # a second request joins the same lead's timeline; a mere address asks for nothing
    await _ask(client, A, conversation, "Or call me back, jane.doe@example.org works too")
    await _ask(client, A, conversation, "my colleague is bob@example.org")
    count = await owner_conn.fetchval(
        "select count(*) from lead_activities where lead_id = $1 and activity_type = 'inquiry'",
        lead["id"],
    )
    assert count == 2
    assert (
        await owner_conn.fetchval("select count(*) from leads where email = 'bob@example.org'") == 0
    )


async def test_old_anonymous_conversations_are_purged(
    settings: Settings, owner_conn: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    from dreamer.db.session import SYSTEM, Database
    from dreamer.worker import purge_chats

    user = await make_account(client, owner_conn, "keeper@example.com")
    insert = (
        "insert into chat_conversations (user_id, session_id, updated_at)"
        " values ($1, $2, now() - make_interval(days => $3)) returning id"
    )
    old_anonymous = await owner_conn.fetchval(insert, None, "v" * 32, 91)
    await owner_conn.execute(
        "insert into chat_messages (conversation_id, role, content) values ($1, 'user', 'hi')",
        old_anonymous,
    )
    recent_anonymous = await owner_conn.fetchval(insert, None, "w" * 32, 89)
    old_account = await owner_conn.fetchval(insert, user.id, None, 400)
    usage = (
        "insert into chat_usage (subject, hour, model, messages)"
        " values ($1, date_trunc('hour', now() - make_interval(days => $2)), 'm', 1)"
    )
    await owner_conn.execute(usage, "visitor:" + "v" * 32, 91)
    await owner_conn.execute(usage, "visitor:" + "w" * 32, 89)
    await owner_conn.execute(usage, f"user:{user.id}", 400)
    worker = Database(str(settings.database_worker_url), pool_size=1)  # as the worker runs it
    try:
        async with worker.transaction(SYSTEM) as session:
            assert await purge_chats(session, 90) == 1
    finally:
        await worker.dispose()
    left = {r["id"] for r in await owner_conn.fetch("select id from chat_conversations")}
    assert left == {recent_anonymous, old_account}
    assert await owner_conn.fetchval("select count(*) from chat_messages") == 0
    kept = {r["subject"] for r in await owner_conn.fetch("select subject from chat_usage")}
    assert kept == {"visitor:" + "w" * 32, f"user:{user.id}"}
