"""The background worker (procrastinate): mail delivery and periodic maintenance.

Jobs live in PostgreSQL (schema ``procrastinate``), so a job is enqueued atomically with the
change that caused it (the ``mail_outbox`` trigger) and nothing else (no Redis) is needed. The
worker connects as ``dreamer_worker``: it may read what its mails need and write only token
digests, the outbox's delivery state and its job queue; partitions, expired sessions and lead
scores go through owner functions it may call (``db/sql/worker.sql``). Run it with
``dreamer worker``; ``dreamer serve`` starts one alongside the API unless RUN_WORKER=false.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

import procrastinate
from procrastinate import JobContext, RetryStrategy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.core import clock
from dreamer.core.config import SHUTDOWN_SECONDS, Settings
from dreamer.db.session import SYSTEM, Database
from dreamer.db.urls import plain_url
from dreamer.mail import outbox
from dreamer.mail.delivery import Mailer, transport_for

log = logging.getLogger("dreamer.worker")
MAIL_RETRY = RetryStrategy(max_attempts=8, exponential_wait=2)
# The domains that send mail; importing each registers its templates' providers.
MAIL_MODULES = ("auth", "bookings", "leads", "newsletter")


def register_mails() -> None:
    for domain in MAIL_MODULES:
        importlib.import_module(f"dreamer.{domain}.mails")


@dataclass
class Worker:
    app: procrastinate.App
    db: Database
    mailer: Mailer

    async def run(self, *, wait: bool = True) -> None:
        """Process jobs; with ``wait=False`` return once the queues are empty (tests)."""
        async with self.app.open_async():
            await self.app.run_worker_async(
                wait=wait,
                install_signal_handlers=wait,
                shutdown_graceful_timeout=SHUTDOWN_SECONDS,  # then running jobs are cancelled
            )

    async def close(self) -> None:
        await self.db.dispose()


def build_worker(settings: Settings, worker_url: str) -> Worker:
    register_mails()
    connector = procrastinate.PsycopgConnector(
        conninfo=plain_url(worker_url),
        kwargs={"options": "-c search_path=procrastinate,public"},
    )
    app = procrastinate.App(connector=connector)
    db = Database(worker_url, pool_size=2)
    mailer = Mailer(db, settings, transport_for(settings))

    @app.task(name="send_mail", queue="mail", retry=MAIL_RETRY, pass_context=True)
    async def send_mail(context: JobContext, outbox_id: str) -> None:
        attempts = context.job.attempts if context.job else 0
        final = attempts + 1 >= (MAIL_RETRY.max_attempts or 1)
        await mailer.deliver(uuid.UUID(outbox_id), final_attempt=final)

    @app.periodic(cron="7 * * * *")
    @app.task(name="maintenance", queue="maintenance")
    async def maintenance(timestamp: int) -> None:
        async with db.transaction(SYSTEM) as session:
            for table in ("audit_logs", "analytics_events"):
                await session.execute(
                    text("select ensure_monthly_partitions(cast(:t as regclass), 3)"), {"t": table}
                )
            await session.execute(text("select recompute_lead_scores()"))  # inactivity rules
            purged = await session.scalar(
                text("select auth_purge_expired(:now)"), {"now": clock.now()}
            )
            chats = await purge_chats(session, settings.chat_retention_days)
            partitions = await session.scalar(
                text("select analytics_retain(:months)"),
                {"months": settings.analytics_retention_months},
            )
            # the reports refresh what changed before they read; this keeps report_stale short
            days = await session.scalar(text("select report_refresh()"))
        log.info(
            "maintenance done: %s expired sessions, %s old anonymous chats purged,"
            " %s analytics partitions dropped, %s report days recomputed",
            purged,
            chats,
            partitions,
            days,
        )

    @app.task(
        name="recompute_lead_scores", queue="maintenance", queueing_lock="recompute_lead_scores"
    )
    async def recompute_lead_scores() -> None:
        """Deferred by the database whenever the scoring rules change."""
        async with db.transaction(SYSTEM) as session:
            changed = await session.scalar(text("select recompute_lead_scores()"))
        log.info("lead scores recomputed: %s leads changed", changed)

    @app.periodic(cron="*/5 * * * *")
    @app.task(name="booking_reminders", queue="maintenance")
    async def booking_reminders(timestamp: int) -> None:
        sent = await queue_reminders(db)
        if sent:
            log.info("queued %s booking reminders", sent)

    return Worker(app, db, mailer)


async def purge_chats(session: AsyncSession, retention_days: int) -> int:
    """Anonymous conversations untouched for ``retention_days`` (``CHAT_RETENTION_DAYS``)."""
    before = clock.now() - timedelta(days=retention_days)
    removed = await session.scalar(text("select chat_purge_anonymous(:before)"), {"before": before})
    return int(removed or 0)


async def queue_reminders(db: Database) -> int:
    """Claim the confirmed bookings that are due a reminder and queue their mails, in one
    transaction: the claim (``reminder_sent``) and the outbox row commit together, and two
    workers can never claim the same booking."""
    async with db.transaction(SYSTEM) as session:
        claimed = (
            await session.execute(
                text("select booking_id from claim_due_reminders(:now)"), {"now": clock.now()}
            )
        ).all()
        for row in claimed:
            await outbox.queue(session, "booking_reminder", row.booking_id)
        return len(claimed)
