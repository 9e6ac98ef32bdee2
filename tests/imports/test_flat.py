"""`dreamer import contacts|newsletter|chat FILE`: a site's flat exports become leads with
activities, subscriptions (suppression honoured) and conversations; dry run writes nothing,
a second run changes nothing, bad rows are reported."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

from tests.harness import ClonedDatabase, run_cli

CONTACTS = """email,name,company,message,created_at
ada@engines.example,Ada Lovelace,Engines Ltd,We need an assistant,2025-03-01T10:00:00Z
ada@engines.example,Ada Lovelace,Engines Ltd,Following up,2025-03-05T10:00:00Z
grace@navy.example,Grace Hopper,,Hello,2025-04-01T09:00:00Z
not-an-email,Nobody,,Spam,2025-04-02T09:00:00Z
bad@date.example,Bad Date,,Hi,the day after tomorrow
"""
NEWSLETTER = """email,created_at,tags,status
reader@example.com,2025-01-01T00:00:00Z,ai;news,active
gone@example.com,2025-01-02T00:00:00Z,,active
left@example.com,2025-01-03T00:00:00Z,,unsubscribed
"""
CHAT = [
    {
        "session_id": "visitor-1",
        "title": "Pricing",
        "created_at": "2025-05-01T12:00:00Z",
        "messages": [
            {"role": "user", "content": "How much is an audit?"},
            {"role": "assistant", "content": "Mock answer", "tokens_used": 12, "model": "mock"},
        ],
    },
    {"session_id": "visitor-2", "messages": []},
]


def _run(db: ClonedDatabase, home: Path, *args: str) -> str:
    done = run_cli(db, home, "import", *args, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def _counts(owner: asyncpg.Connection) -> tuple[int, ...]:
    return tuple(
        [
            await owner.fetchval(f"select count(*) from {t}")
            for t in (
                "leads",
                "lead_activities",
                "newsletter_subscriptions",
                "chat_conversations",
                "chat_messages",
            )
        ]
    )


async def test_flat_files_import_once(
    fresh_db: ClonedDatabase, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(CONTACTS)
    newsletter = tmp_path / "newsletter.csv"
    newsletter.write_text(NEWSLETTER)
    chat = tmp_path / "chat.json"
    chat.write_text(json.dumps(CHAT))
    await owner_conn.execute(
        "insert into newsletter_suppressions (email_hash, reason)"
        " values (email_hash('gone@example.com'), 'erased')"
    )
    before = await _counts(owner_conn)
    dry = _run(fresh_db, tmp_path, "contacts", str(contacts), "--dry-run")
    assert "dry run" in dry and await _counts(owner_conn) == before

    report = _run(fresh_db, tmp_path, "contacts", str(contacts))
    assert "no valid email" in report and "refused" in report, report
    leads = await owner_conn.fetch("select email, first_name, created_at from leads order by 1")
    assert [(r["email"], r["first_name"]) for r in leads] == [
        ("ada@engines.example", "Ada"),
        ("grace@navy.example", "Grace"),
    ]
    assert leads[0]["created_at"].year == 2025  # dated as the submission
    assert (
        await owner_conn.fetchval(
            "select count(*) from lead_activities where activity_type = 'inquiry'"
        )
        == 3
    )

    report = _run(fresh_db, tmp_path, "newsletter", str(newsletter))
    assert "suppression list" in report and "unsubscribed in the file" in report, report
    reader = await owner_conn.fetchrow("select * from newsletter_subscriptions")
    assert reader["email"] == "reader@example.com" and reader["confirmed_at"] is not None
    assert reader["unsubscribe_token"] and json.loads(reader["tags"]) == ["ai", "news"]

    report = _run(fresh_db, tmp_path, "chat", str(chat))
    assert "no messages" in report, report
    assert await owner_conn.fetchval("select count(*) from chat_messages") == 2

    after = await _counts(owner_conn)
    for kind, path in (("contacts", contacts), ("newsletter", newsletter), ("chat", chat)):
        again = _run(fresh_db, tmp_path, kind, str(path))
        assert "already" in again, again
    assert await _counts(owner_conn) == after
