"""``dreamer import legacy --from URL``: a database of the original system, into ours.

The source has the original schema (``DATA_MODEL.md``: the same tables and column names, plain
tables, bcrypt password hashes from pgcrypto, plain-text tokens). Every table is read in
dependency order, in chunks, and written as the owner in **one transaction** (a failure, or
``--dry-run``, leaves the target as it was) with ``INSERT … ON CONFLICT DO NOTHING``: ids are
kept, so a second run finds every row already there and changes nothing (idempotent). Rows
keep the columns both schemas have; what cannot be kept is said in the report:

- plain-text tokens (verification, password reset, unsubscribe, sessions) are dropped: people
  sign in again, and each subscriber gets a fresh unsubscribe digest;
- password hashes (``$2a$`` bcrypt) are kept as they are: the login verifies them and
  re-hashes with Argon2id;
- analytics events keep no IP (its /24 or /48 network) and no user agent (its classes); their
  session ids are hashed with a random salt of the import;
- testimonials' ``is_active`` becomes ``published``/``archived``; ``view_count`` is not kept;
- newsletter addresses on the suppression list (unsubscribed, erased) are skipped;
- a row our invariants refuse (an overlapping active booking, an address already taken in
  another case, a rating out of range…) is skipped with the constraint that refused it.

Audit entries are copied with their secrets redacted (``audit_redact``); importing writes audit
entries of its own through the usual triggers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from dreamer.analytics import service as analytics
from dreamer.core import signing
from dreamer.core.security import token_digest
from dreamer.db import rehearsal

CHUNK = 1000

# In dependency order; sessions are never imported (their tokens are plain text).
TABLES = (
    "users",
    "services",
    "service_bookings",
    "leads",
    "lead_activities",
    "case_studies",
    "testimonials",
    "content_pages",
    "chat_conversations",
    "chat_messages",
    "newsletter_subscriptions",
    "analytics_events",
    "audit_logs",
)
DROPPED = {
    "users": ("email_verification_token", "password_reset_token", "password_reset_expires"),
    "newsletter_subscriptions": ("unsubscribe_token", "confirmation_token"),
}


@dataclass
class TableReport:
    read: int = 0
    imported: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    dropped_columns: list[str] = field(default_factory=list)
    days: set[Any] = field(default_factory=set)  # analytics: the days that gained events


@dataclass
class Report:
    tables: dict[str, TableReport] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False


Progress = Callable[[str, int, int], None]


class _Shaper:
    """Per table, a source row as the target takes it, or the reason it is skipped."""

    def __init__(self, secret: str, suppressed: set[str]) -> None:
        self.secret = secret
        self.suppressed = suppressed
        self.salt = os.urandom(16)

    def __call__(self, table: str, row: dict[str, Any]) -> dict[str, Any] | str:
        shape = getattr(self, f"_{table}", None)
        return shape(row) if shape else row

    def _testimonials(self, row: dict[str, Any]) -> dict[str, Any] | str:
        active = row.pop("is_active", True)
        row["status"] = "published" if active else "archived"
        if active and not row.get("published_at"):
            row["published_at"] = row.get("created_at")
        return row

    def _newsletter_subscriptions(self, row: dict[str, Any]) -> dict[str, Any] | str:
        email = str(row.get("email") or "").strip().lower()
        if hashlib.sha256(email.encode()).hexdigest() in self.suppressed:
            return "on the suppression list (unsubscribed or erased)"
        row["unsubscribe_token"] = token_digest(signing.unsubscribe_token(self.secret, email))
        if row.get("is_active", True) and not row.get("confirmed_at"):
            row["confirmed_at"] = row.get("created_at")  # the original had single opt-in
        consent = {"source": "legacy import", "at": str(row.get("created_at"))}
        row["consent"] = {"history": [consent]}
        return row

    def _analytics_events(self, row: dict[str, Any]) -> dict[str, Any] | str:
        agent = analytics.classify(row.pop("user_agent", None))
        row["browser"], row["os"], row["device"] = agent
        row["ip_address"] = analytics.network(row.get("ip_address"))
        page_url, path, tags = analytics.page_parts(row.get("page_url"))
        row.update(page_url=page_url, path=path, **tags)
        session = row.get("session_id")
        if session is not None:
            digest = hashlib.sha256(self.salt + str(session).encode()).hexdigest()
            row["session_id"] = digest[:32]
        return row


async def _columns(conn: asyncpg.Connection, table: str) -> list[str]:
    rows = await conn.fetch(
        "select column_name from information_schema.columns"
        " where table_schema = 'public' and table_name = $1 and is_generated = 'NEVER'"
        " order by ordinal_position",
        table,
    )
    return [r["column_name"] for r in rows]


CONFLICT = {
    "service_bookings": "overlaps an active booking (service_bookings_no_overlap)",
    "users": "the address belongs to another account (users_email_lower_key)",
    "newsletter_subscriptions": "the address is subscribed already",
}


async def _count(
    target: asyncpg.Connection,
    table: str,
    payload: list[dict[str, Any]],
    done: list[asyncpg.Record],
    report: TableReport,
) -> None:
    """Count what was written; of the rest, what was there already and what conflicted."""
    report.imported += len(done)
    if table == "analytics_events":
        report.days.update(d[1] for d in done)
    written = {str(d[0]) for d in done}
    missing = [str(p["id"]) for p in payload if str(p.get("id")) not in written]
    if not missing:
        return
    there = await target.fetchval(
        f'select count(*) from "{table}" where id = any($1::uuid[])', missing
    )
    if there:
        report.skipped["already imported"] += there
    if len(missing) - there:
        reason = CONFLICT.get(table, "conflicts with an existing row (a unique value)")
        report.skipped[reason] += len(missing) - there


async def _insert(
    target: asyncpg.Connection, table: str, rows: list[dict[str, Any]], report: TableReport
) -> None:
    """Insert rows grouped by the columns they carry (absent ones take their defaults)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(k for k, v in row.items() if v is not None))].append(row)
    for columns, members in groups.items():
        names = ", ".join(f'"{c}"' for c in columns)
        values = ", ".join(
            f"audit_redact(r.{c})"
            if table == "audit_logs" and c in ("old_values", "new_values")
            else f"r.{c}"
            for c in columns
        )
        sql = (
            f'insert into "{table}" ({names}) select {values}'
            f' from jsonb_populate_recordset(null::"{table}", $1::jsonb) r'
            " on conflict do nothing returning id, "
            + ("(created_at at time zone 'UTC')::date" if table == "analytics_events" else "null")
        )
        payload = [{c: m[c] for c in columns} for m in members]  # json: default=str
        try:
            async with target.transaction():
                done = await target.fetch(sql, json.dumps(payload, default=str))
            await _count(target, table, payload, done, report)
        except asyncpg.PostgresError:
            for one in payload:  # find the rows refused, one savepoint each
                try:
                    async with target.transaction():
                        done = await target.fetch(sql, json.dumps([one], default=str))
                    await _count(target, table, [one], done, report)
                except asyncpg.PostgresError as exc:
                    reason = getattr(exc, "constraint_name", None) or exc.sqlstate
                    report.skipped[f"refused: {reason}"] += 1


async def run(
    source_url: str,
    target_url: str,
    *,
    secret: str,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Import everything the source holds (see the module docstring)."""
    report = Report(dry_run=dry_run)
    source = await asyncpg.connect(source_url)
    target = await asyncpg.connect(target_url)
    for kind in ("json", "jsonb"):
        await source.set_type_codec(
            kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
    try:
        hashes = await target.fetch("select email_hash from newsletter_suppressions")
        suppressed = {r["email_hash"] for r in hashes}
        shape = _Shaper(secret, suppressed)
        present = {
            r["table_name"]
            for r in await source.fetch(
                "select table_name from information_schema.tables where table_schema = 'public'"
            )
        }
        if "user_sessions" in present:
            sessions = await source.fetchval("select count(*) from user_sessions")
            report.notes.append(
                f"user_sessions: {sessions} sessions not imported (plain-text tokens):"
                " people sign in again"
            )
        async with rehearsal.transaction(target, dry_run=dry_run):
            for table in TABLES:
                if table not in present:
                    report.notes.append(f"{table}: not in the source")
                    continue
                await _table(source, target, table, shape, report, progress)
            imported = report.tables.get("analytics_events")
            if imported and imported.days:
                await _roll_up(target, sorted(imported.days))
    finally:
        await source.close()
        await target.close()
    return report


async def _roll_up(target: asyncpg.Connection, days: list[Any]) -> None:
    """The daily roll-ups of the days that gained events, recomputed from the events (the
    imported ones have no visitor hash: they add page views and events, not visits)."""
    await target.execute("delete from analytics_daily where day = any($1::date[])", days)
    await target.execute(
        "insert into analytics_daily (day, event_type, path, events)"
        " select (e.created_at at time zone 'UTC')::date, e.event_type, coalesce(e.path, ''),"
        " count(*) from analytics_events e"
        " where (e.created_at at time zone 'UTC')::date = any($1::date[])"
        " group by 1, 2, 3",
        days,
    )


async def _table(
    source: asyncpg.Connection,
    target: asyncpg.Connection,
    table: str,
    shape: _Shaper,
    report: Report,
    progress: Progress | None,
) -> None:
    theirs = await _columns(source, table)
    ours = set(await _columns(target, table))
    extra = {"testimonials": {"is_active"}, "analytics_events": {"user_agent"}}.get(table, set())
    dropped = set(DROPPED.get(table, ()))
    kept = [c for c in theirs if (c in ours or c in extra) and c not in dropped]
    result = report.tables[table] = TableReport(
        dropped_columns=sorted(c for c in theirs if c not in kept and c not in extra)
    )
    total = await source.fetchval(f'select count(*) from "{table}"')
    if not re.fullmatch(r"[a-z_]+", table):
        raise ValueError(table)
    names = ", ".join(f'"{c}"' for c in kept)
    order = "created_at, id" if {"created_at", "id"} <= set(theirs) else "1"
    async with source.transaction(readonly=True):
        cursor = source.cursor(f'select {names} from "{table}" order by {order}')
        chunk: list[dict[str, Any]] = []
        async for record in cursor:
            result.read += 1
            shaped = shape(table, dict(record))
            if isinstance(shaped, str):
                result.skipped[shaped] += 1
            else:
                chunk.append(shaped)
            if len(chunk) >= CHUNK:
                await _insert(target, table, chunk, result)
                chunk = []
                if progress:
                    progress(table, result.read, total)
        if chunk:
            await _insert(target, table, chunk, result)
    if progress:
        progress(table, result.read, total)
