"""Chat quotas per person and role (messages per hour and day, tokens per day): the exact
count, then 429 with Retry-After, also under concurrent messages; deleting a conversation does
not reset them. The staff usage report and conversation search read the same ledger."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx

from tests.chat.test_chat import A, B, _ask, _start, seeded
from tests.conftest import AppWith as App
from tests.factories import make_account

__all__ = ["seeded"]


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["status"] == 429
    return int(response.headers["retry-after"])


async def test_messages_per_hour_exact_then_429(app_with: App, seeded: None) -> None:
    async with app_with(chat_quotas="anonymous=3/0/0") as http:
        conversation = await _start(http, A)
        for _ in range(3):
            assert (await _ask(http, A, conversation, "workshop price")).status_code == 201
        refused = await _ask(http, A, conversation, "workshop price")
        assert 0 < _retry_after(refused) <= 3600
        # a refused message is not stored, and deleting the conversation does not reset it
        shown = await http.get(f"/api/v1/chat/conversations/{conversation}", headers=A)
        assert len(shown.json()["data"]["messages"]) == 6
        assert (
            await http.delete(f"/api/v1/chat/conversations/{conversation}", headers=A)
        ).is_success
        again = await _start(http, A)
        _retry_after(await _ask(http, A, again, "workshop price"))
        completions = await http.post(
            "/api/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "workshop price"}]},
            headers=A,
        )
        _retry_after(completions)
        # another person is not affected
        other = await _start(http, B)
        assert (await _ask(http, B, other, "workshop price")).status_code == 201


async def test_concurrent_messages_cannot_share_the_last_one(app_with: App, seeded: None) -> None:
    async with app_with(chat_quotas="anonymous=5/0/0") as http:
        conversations = [await _start(http, A) for _ in range(4)]
        answers = await asyncio.gather(
            *(_ask(http, A, conversations[i % 4], "consultation") for i in range(12))
        )
        assert sorted(r.status_code for r in answers) == [201] * 5 + [429] * 7


async def test_the_day_and_the_tokens_count_the_last_24_hours(
    app_with: App, owner_conn: asyncpg.Connection, seeded: None
) -> None:
    visitor = uuid.UUID(int=0xA).hex
    # 23 hours ago this visitor sent 4 messages: one more today is the fifth of the day
    await owner_conn.execute(
        "insert into chat_usage (subject, hour, model, messages, prompt_tokens)"
        " values ($1, date_trunc('hour', now()) - interval '23 hours', 'm', 4, 10)",
        f"visitor:{visitor}",
    )
    async with app_with(chat_quotas="anonymous=0/5/0") as http:
        conversation = await _start(http, A)
        assert (await _ask(http, A, conversation, "consultation")).status_code == 201
        wait = _retry_after(await _ask(http, A, conversation, "consultation"))
        assert wait <= 3600  # when that old hour leaves the window
    async with app_with(chat_quotas="anonymous=0/0/50") as http:
        # the tokens so far (10 then, and the answer just given) exceed 50: refused
        conversation = await _start(http, B)
        assert (await _ask(http, B, conversation, "consultation")).status_code == 201
        _retry_after(await _ask(http, B, conversation, "consultation"))
    used = await owner_conn.fetchrow(
        "select sum(messages) as messages, sum(prompt_tokens + completion_tokens) as tokens"
        " from chat_usage where subject = $1",
        f"visitor:{uuid.UUID(int=0xB).hex}",
    )
    assert used["messages"] == 1 and used["tokens"] > 50


async def test_quotas_follow_the_role(
    app_with: App,
    client: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
    seeded: None,
) -> None:
    member = await make_account(client, owner_conn, "member@example.com", role="client")
    staff = await make_account(client, owner_conn, "staff@example.com", role="admin")
    async with app_with(chat_quotas="anonymous=1/0/0,client=2/0/0,admin=0/0/0") as http:
        for account, allowed in ((member, 2), (staff, 6)):
            conversation = await _start(http, account.auth)
            for _ in range(allowed):
                asked = await _ask(http, account.auth, conversation, "consultation")
                assert asked.status_code == 201, asked.text
            if account is member:
                _retry_after(await _ask(http, account.auth, conversation, "consultation"))


async def test_staff_see_usage_and_find_conversations(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, seeded: None
) -> None:
    staff = await make_account(client, owner_conn, "reports@example.com", role="admin")
    member = await make_account(client, owner_conn, "asker@example.com", role="client")
    anonymous = await _start(client, A)
    await _ask(client, A, anonymous, "Please contact me at lead.person@example.org about pricing")
    mine = await _start(client, member.auth)
    await _ask(client, member.auth, mine, "What does the AI strategy consultation include?")
    await _ask(client, member.auth, mine, "And the workshop?")

    report = await client.get("/api/v1/admin/chat/usage", headers=staff.auth)
    assert report.status_code == 200, report.text
    data: dict[str, Any] = report.json()["data"]
    assert data["totals"]["messages"] == 3
    assert data["totals"]["completionTokens"] > 0
    assert [m["model"] for m in data["byModel"]] == ["dreamer-site-assistant"]
    callers = {(c["email"], c["visitorId"]): c["messages"] for c in data["byCaller"]}
    assert callers == {("asker@example.com", None): 2, (None, uuid.UUID(int=0xA).hex): 1}
    assert data["topConversations"][0]["conversationId"] == mine
    assert len(data["byDay"]) == 1 and data["byDay"][0]["messages"] == 3
    bad = await client.get(
        "/api/v1/admin/chat/usage",
        params={"from": "2026-02-01", "to": "2026-01-01"},
        headers=staff.auth,
    )
    assert bad.status_code == 422

    async def found(**params: str) -> list[str]:
        response = await client.get(
            "/api/v1/admin/chat/conversations", params=params, headers=staff.auth
        )
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["data"]]

    assert set(await found()) == {anonymous, mine}
    assert await found(q="STRATEGY consultation") == [mine]
    assert await found(q="100%") == []  # a pattern character is only a character
    assert await found(userId=str(member.id)) == [mine]
    lead = await owner_conn.fetchval("select id from leads where email = 'lead.person@example.org'")
    assert await found(leadId=str(lead)) == [anonymous]
    assert await found(**{"from": "2000-01-01", "to": "2000-01-31"}) == []
    # the member is no staff
    denied = await client.get("/api/v1/admin/chat/usage", headers=member.auth)
    assert denied.status_code == 403
