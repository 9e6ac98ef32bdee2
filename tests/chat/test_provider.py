"""The OpenAI wire protocol against a real HTTP server on 127.0.0.1 that speaks it: chat
completions, streamed SSE chunks with usage, an error and a timeout. Answers are stored with
the provider's usage and model; failures degrade to a polite answer, never a 500; a client
leaving mid-stream still leaves a stored answer."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from dreamer.core.config import Settings
from dreamer.seed.runner import run_seed
from tests.harness import run_server, serve_asgi

VISITOR = {"X-Visitor-Id": uuid.UUID(int=0xC).hex}
ANSWER = "Our AI Training Workshop costs 2,500 USD for up to 20 people."


@dataclass
class Fake:
    """What the fake provider does next, and what it was asked."""

    mode: str = "ok"  # ok | error | slow
    answer: str = ANSWER
    requests: list[dict[str, Any]] = field(default_factory=list)
    chunk_delay: float = 0.0


def _fake_app(fake: Fake) -> Starlette:
    async def completions(request: Request) -> Response:
        body = await request.json()
        fake.requests.append(body)
        if fake.mode == "error":
            return JSONResponse({"error": {"message": "overloaded"}}, status_code=503)
        if fake.mode == "slow":
            await asyncio.sleep(5)
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": "cmpl-1",
                    "object": "chat.completion",
                    "model": "fake-llm-1",
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": fake.answer}}
                    ],
                    "usage": {"prompt_tokens": 120, "completion_tokens": 17, "total_tokens": 137},
                }
            )

        async def chunks() -> AsyncIterator[bytes]:
            for word in ANSWER.split(" "):
                piece = {"model": "fake-llm-1", "choices": [{"delta": {"content": word + " "}}]}
                yield b"data: " + json.dumps(piece).encode() + b"\n\n"
                await asyncio.sleep(fake.chunk_delay)
            usage = {
                "model": "fake-llm-1",
                "choices": [],
                "usage": {"prompt_tokens": 90, "completion_tokens": 14},
            }
            yield b"data: " + json.dumps(usage).encode() + b"\n\n"
            yield b"data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    async def models(request: Request) -> Response:
        return JSONResponse(
            {"object": "list", "data": [{"id": "fake-llm-1"}, {"id": "fake-llm-2"}]}
        )

    return Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/v1/models", models),
        ]
    )


@pytest.fixture
def provider() -> Iterator[tuple[str, Fake]]:
    fake = Fake()
    with serve_asgi(_fake_app(fake)) as base:
        yield f"{base}/v1", fake


@pytest.fixture
async def llm_client(
    settings: Settings, provider: tuple[str, Fake]
) -> AsyncIterator[httpx.AsyncClient]:
    from dreamer.app import close_pools, create_app

    assert settings.database_owner_url
    await run_seed(settings, settings.database_owner_url, demo=True, only_if_empty=False)
    configured = settings.model_copy(
        update={
            "llm_base_url": provider[0],
            "llm_api_key": "sk-test",
            "llm_model": "fake-llm-1",
            "llm_timeout_seconds": 1.0,
            "llm_max_retries": 1,
        }
    )
    app = create_app(configured)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await close_pools(app)


async def _start(http: httpx.AsyncClient) -> str:
    created = await http.post("/api/v1/chat/conversations", json={}, headers=VISITOR)
    return str(created.json()["data"]["id"])


async def _ask(
    http: httpx.AsyncClient, conversation: str, text: str, **headers: str
) -> httpx.Response:
    return await http.post(
        f"/api/v1/chat/conversations/{conversation}/messages",
        json={"content": text},
        headers={**VISITOR, **headers},
    )


async def test_answers_come_from_the_provider_grounded_in_the_site(
    llm_client: httpx.AsyncClient, provider: tuple[str, Fake]
) -> None:
    _url, fake = provider
    conversation = await _start(llm_client)
    asked = await _ask(llm_client, conversation, "How much is the AI training workshop?")
    assert asked.status_code == 201, asked.text
    reply = asked.json()["data"]["reply"]
    assert reply["content"] == ANSWER
    assert (reply["promptTokens"], reply["completionTokens"], reply["tokensUsed"]) == (120, 17, 137)
    assert reply["modelUsed"] == "fake-llm-1"
    sent = fake.requests[-1]
    system = sent["messages"][0]
    assert system["role"] == "system" and "AI Training Workshop" in system["content"]
    assert "2,500 USD" in system["content"]  # the retrieved price grounds the answer
    assert sent["messages"][-1] == {
        "role": "user",
        "content": "How much is the AI training workshop?",
    }
    models = (await llm_client.get("/api/v1/chat/models")).json()["data"]
    assert models == [
        {"provider": "openai-compatible", "model": "fake-llm-1"},
        {"provider": "openai-compatible", "model": "fake-llm-2"},
    ]


async def test_a_long_conversation_sends_its_latest_messages(
    llm_client: httpx.AsyncClient, provider: tuple[str, Fake], owner_conn: asyncpg.Connection
) -> None:
    """Past a thousand messages the provider still gets the conversation's last
    ``assistant.HISTORY`` messages, in order: not its oldest ones, and not all of them."""
    from dreamer.chat import assistant

    _url, fake = provider
    conversation = await _start(llm_client)
    await owner_conn.execute(
        "insert into chat_messages (conversation_id, role, content, created_at)"
        " select $1, case when n % 2 = 0 then 'user' else 'assistant' end, 'message ' || n,"
        " now() - interval '1 day' + n * interval '1 second' from generate_series(1, 1030) n",
        uuid.UUID(conversation),
    )
    asked = await _ask(llm_client, conversation, "And the workshop?")
    assert asked.status_code == 201, asked.text
    history = fake.requests[-1]["messages"][1:-1]
    first = 1031 - assistant.HISTORY
    assert [m["content"] for m in history] == [f"message {n}" for n in range(first, 1031)]
    assert history[-1]["role"] == "user"  # 1030 is even


@pytest.mark.parametrize("mode", ["error", "slow"])
async def test_a_failing_provider_degrades_politely(
    llm_client: httpx.AsyncClient, provider: tuple[str, Fake], mode: str
) -> None:
    _url, fake = provider
    fake.mode = mode
    conversation = await _start(llm_client)
    asked = await _ask(llm_client, conversation, "Do you run AI training workshops?")
    assert asked.status_code == 201, asked.text
    reply = asked.json()["data"]["reply"]
    assert reply["content"].startswith("Our AI assistant is not available right now")
    assert "AI Training Workshop" in reply["content"]  # the site's own answer
    assert reply["modelUsed"] == "dreamer-site-assistant"
    assert len(fake.requests) == 2  # one retry


async def test_streaming_through_the_provider(
    llm_client: httpx.AsyncClient, provider: tuple[str, Fake]
) -> None:
    _url, _fake = provider
    conversation = await _start(llm_client)
    async with llm_client.stream(
        "POST",
        f"/api/v1/chat/conversations/{conversation}/messages",
        json={"content": "What does the workshop cost?"},
        headers={**VISITOR, "Accept": "text/event-stream"},
    ) as response:
        body = (await response.aread()).decode()
    events = [block.split("\n") for block in body.strip().split("\n\n")]
    assert [e[0] for e in events][-1] == "event: done"
    text = "".join(json.loads(e[1][6:])["text"] for e in events[:-1])
    assert text.strip() == ANSWER
    done = json.loads(events[-1][1][6:])
    assert done["reply"]["promptTokens"] == 90 and done["reply"]["modelUsed"] == "fake-llm-1"


async def test_a_client_that_leaves_mid_stream_still_gets_the_answer_stored(
    settings: Settings, provider: tuple[str, Fake], owner_conn: asyncpg.Connection
) -> None:
    """Through the real server: the client reads the first piece and hangs up; the answer is
    generated to the end and stored after the question."""
    url, fake = provider
    fake.chunk_delay = 0.1
    assert settings.database_owner_url
    await run_seed(settings, settings.database_owner_url, demo=True, only_if_empty=False)
    with run_server(settings, LLM_BASE_URL=url, LLM_MODEL="fake-llm-1") as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            conversation = await _start(http)
            async with http.stream(
                "POST",
                f"/api/v1/chat/conversations/{conversation}/messages",
                json={"content": "And how long is it?"},
                headers={**VISITOR, "Accept": "text/event-stream"},
            ) as response:
                async for chunk in response.aiter_bytes():
                    assert b"event: token" in chunk
                    break  # the connection closes here, mid-answer
        stored: list[asyncpg.Record] = []
        for _ in range(100):
            stored = await owner_conn.fetch(
                "select role, content, model_used from chat_messages"
                " where conversation_id = $1 order by created_at",
                uuid.UUID(conversation),
            )
            if len(stored) == 2:
                break
            await asyncio.sleep(0.05)
    assert [r["role"] for r in stored] == ["user", "assistant"]
    assert stored[-1]["content"].strip() == ANSWER and stored[-1]["model_used"] == "fake-llm-1"


async def test_staff_set_the_system_prompt_and_usage_is_the_providers(
    llm_client: httpx.AsyncClient,
    provider: tuple[str, Fake],
    client: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
) -> None:
    from tests.factories import make_account

    _url, fake = provider
    staff = await make_account(client, owner_conn, "prompter@example.com", role="admin")
    member = await make_account(client, owner_conn, "nosy@example.com", role="client")
    shown = await llm_client.get("/api/v1/admin/chat/settings", headers=staff.auth)
    assert shown.json()["data"]["isDefault"] is True
    prompt = "You are the friendly guide of {site}. Answer in one sentence."
    denied = await llm_client.put(
        "/api/v1/admin/chat/settings", json={"systemPrompt": prompt}, headers=member.auth
    )
    assert denied.status_code == 403
    saved = await llm_client.put(
        "/api/v1/admin/chat/settings", json={"systemPrompt": prompt}, headers=staff.auth
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["data"]["isDefault"] is False
    assert saved.json()["data"]["updatedBy"] == str(staff.id)

    conversation = await _start(llm_client)
    assert (await _ask(llm_client, conversation, "Workshop price?")).status_code == 201
    system = fake.requests[-1]["messages"][0]["content"]
    assert system.startswith("You are the friendly guide of Dreamer AI Solutions.")
    assert "AI Training Workshop" in system  # still grounded in the retrieved content
    used = await owner_conn.fetchrow(
        "select messages, prompt_tokens, completion_tokens from chat_usage where subject = $1",
        f"visitor:{VISITOR['X-Visitor-Id']}",
    )
    assert tuple(used) == (1, 120, 17)
    audited = await owner_conn.fetchval(
        "select count(*) from audit_logs where entity_type = 'chat_settings'"
    )
    assert audited == 1

    restored = await llm_client.put(
        "/api/v1/admin/chat/settings", json={"systemPrompt": None}, headers=staff.auth
    )
    assert restored.json()["data"]["isDefault"] is True
    blank = await llm_client.put(
        "/api/v1/admin/chat/settings", json={"systemPrompt": "   "}, headers=staff.auth
    )
    assert blank.status_code == 422
