"""``dreamer import contacts|newsletter|chat FILE``: the flat exports a site typically has.

- **contacts** (CSV with a header, or a JSON array of objects): ``email`` and any of ``name``
  (or ``first_name``/``last_name``), ``company``, ``phone``, ``message``, ``source``,
  ``created_at`` (or ``date``). Each submission becomes an ``inquiry`` activity of the newest
  open lead of its address, or of a new lead (dated as the submission).
- **newsletter** (CSV or JSON): ``email`` and optionally ``created_at``, ``tags`` (``;``
  separated), ``status`` (``unsubscribed`` rows are skipped). Addresses on the suppression list
  or already subscribed are skipped; the others are confirmed subscribers with a consent
  record of the import and a fresh unsubscribe digest.
- **chat** (JSON array of conversations): ``messages`` (``role``, ``content``, optional
  ``created_at``, ``tokens_used``, ``model``) and optionally ``id``, ``user_email``,
  ``session_id``, ``title``, ``created_at``.

Like the legacy import: one transaction as the owner (``--dry-run`` rolls it back), a report
of rows read / imported / skipped with reasons, and a second run changes nothing (each
imported row carries a key derived from its content, or keeps its id).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from dreamer.core import csvio, signing
from dreamer.core.security import token_digest
from dreamer.db import rehearsal
from dreamer.seed.legacy import Report, TableReport

KINDS = ("contacts", "newsletter", "chat")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
NAMESPACE = uuid.UUID("6f1c1a4e-8a54-4c0e-9a3e-4b1f0d6c2a11")


def read_rows(path: Path, kind: str) -> list[dict[str, Any]]:
    """The file's rows: a JSON array of objects, or (contacts, newsletter) a CSV."""
    content = path.read_bytes()
    if path.suffix.lower() == ".json" or content.lstrip()[:1] in (b"[", b"{"):
        data = json.loads(content)
        if isinstance(data, dict):
            data = data.get(kind) or data.get("items") or [data]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ValueError("the JSON must be an array of objects")
        return data
    if kind == "chat":
        raise ValueError("chat history is imported from JSON")
    return [dict(r.values) for r in csvio.read(content, required=("email",))]


def _key(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p or "") for p in parts).encode()).hexdigest()[:32]


def _email(value: Any) -> str | None:
    email = str(value or "").strip()
    return email if _EMAIL.fullmatch(email) and len(email) <= 320 else None


async def _contact(conn: asyncpg.Connection, row: dict[str, Any], report: TableReport) -> None:
    email = _email(row.get("email"))
    if email is None:
        report.skipped["no valid email"] += 1
        return
    first, last = row.get("first_name"), row.get("last_name")
    if not first and row.get("name"):
        first, _, last = str(row["name"]).strip().partition(" ")
    when = row.get("created_at") or row.get("date")
    message = row.get("message")
    key = _key(email.lower(), when, message)
    if await conn.fetchval(
        "select exists (select 1 from lead_activities where metadata ->> 'import_key' = $1)", key
    ):
        report.skipped["already imported"] += 1
        return
    lead = await conn.fetchval(
        "select id from leads where email_normalized = lower($1)"
        " and status not in ('converted', 'lost') order by created_at desc limit 1",
        email,
    )
    source = (
        row.get("source")
        if row.get("source") in ("website", "referral", "social_media", "event", "direct", "other")
        else "website"
    )
    if lead is None:
        lead = await conn.fetchval(
            "insert into leads (email, first_name, last_name, company, phone, message, source,"
            " created_at) values ($1, $2, $3, $4, $5, $6, $7::lead_source,"
            " coalesce($8::text::timestamptz, now())) returning id",
            email,
            (first or None) and str(first)[:100],
            (last or None) and str(last)[:100],
            row.get("company") and str(row["company"])[:200],
            row.get("phone") and str(row["phone"])[:50],
            message,
            source,
            when,
        )
    await conn.execute(
        "insert into lead_activities (lead_id, activity_type, description, metadata, created_at)"
        " values ($1, 'inquiry', $2, $3::jsonb, coalesce($4::text::timestamptz, now()))",
        lead,
        message,
        json.dumps({"import_key": key, "imported": True}),
        when,
    )
    report.imported += 1


def _subscriber(secret: str) -> Callable[..., Awaitable[None]]:
    async def subscriber(
        conn: asyncpg.Connection, row: dict[str, Any], report: TableReport
    ) -> None:
        email = _email(row.get("email"))
        if email is None:
            report.skipped["no valid email"] += 1
            return
        if str(row.get("status") or "").lower() in ("unsubscribed", "inactive", "false"):
            report.skipped["unsubscribed in the file"] += 1
            return
        if await conn.fetchval(
            "select exists (select 1 from newsletter_suppressions"
            " where email_hash = email_hash($1))",
            email,
        ):
            report.skipped["on the suppression list (unsubscribed or erased)"] += 1
            return
        tags = row.get("tags") or []
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(";") if t.strip()]
        when = row.get("created_at") or row.get("subscribed_at")
        consent = {"history": [{"source": "file import", "at": str(when or "")}]}
        done = await conn.fetchval(
            "insert into newsletter_subscriptions (email, tags, consent, confirmed_at,"
            " unsubscribe_token, created_at) values ($1, $2::jsonb, $3::jsonb,"
            " coalesce($4::text::timestamptz, now()), $5, coalesce($4::text::timestamptz, now()))"
            " on conflict do nothing returning id",
            email,
            json.dumps(tags[:20]),
            json.dumps(consent),
            when,
            token_digest(signing.unsubscribe_token(secret, email.lower())),
        )
        if done is None:
            report.skipped["already subscribed"] += 1
        else:
            report.imported += 1

    return subscriber


async def _conversation(conn: asyncpg.Connection, row: dict[str, Any], report: TableReport) -> None:
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        report.skipped["no messages"] += 1
        return
    try:
        ident = uuid.UUID(str(row["id"])) if row.get("id") else None
    except ValueError:
        ident = None
    first = messages[0] if isinstance(messages[0], dict) else {}
    ident = ident or uuid.uuid5(
        NAMESPACE, _key(row.get("session_id"), row.get("user_email"), first.get("content"))
    )
    user = None
    if _email(row.get("user_email")):
        user = await conn.fetchval(
            "select id from users where lower(email) = lower($1)", row["user_email"]
        )
    session = None if user else str(row.get("session_id") or f"imported-{ident.hex}")[:100]
    when = row.get("created_at") or first.get("created_at")
    created = await conn.fetchval(
        "insert into chat_conversations (id, user_id, session_id, title, metadata, created_at,"
        " updated_at) values ($1, $2, $3, $4, '{\"imported\": true}',"
        " coalesce($5::text::timestamptz, now()), coalesce($5::text::timestamptz, now()))"
        " on conflict do nothing returning id",
        ident,
        user,
        session,
        (str(row.get("title") or "") or None) and str(row["title"])[:200],
        when,
    )
    if created is None:
        report.skipped["already imported"] += 1
        return
    for message in messages:
        if (
            not isinstance(message, dict)
            or message.get("role") not in ("user", "assistant", "system")
            or not message.get("content")
        ):
            report.skipped["a message without a role or content (left out)"] += 1
            continue
        await conn.execute(
            "insert into chat_messages (conversation_id, role, content, tokens_used, model_used,"
            " created_at) values ($1, $2, $3, $4, $5, coalesce($6::text::timestamptz, now()))",
            ident,
            message["role"],
            str(message["content"]),
            message.get("tokens_used"),
            message.get("model"),
            message.get("created_at") or when,
        )
    report.imported += 1


async def run(
    kind: str, rows: list[dict[str, Any]], target_url: str, *, secret: str, dry_run: bool
) -> Report:
    """Import ``rows`` of ``kind`` (see the module docstring) in one transaction."""
    handler = {"contacts": _contact, "newsletter": _subscriber(secret), "chat": _conversation}[kind]
    table = {"contacts": "leads", "newsletter": "newsletter_subscriptions"}.get(
        kind, "chat_conversations"
    )
    report = Report(dry_run=dry_run)
    figures = report.tables[table] = TableReport()
    conn = await asyncpg.connect(target_url)
    try:
        async with rehearsal.transaction(conn, dry_run=dry_run):
            for row in rows:
                figures.read += 1
                try:
                    async with conn.transaction():
                        await handler(conn, row, figures)
                except (asyncpg.PostgresError, ValueError, TypeError) as exc:
                    reason = getattr(exc, "constraint_name", None) or type(exc).__name__
                    figures.skipped[f"refused: {reason}"] += 1
    finally:
        await conn.close()
    return report
