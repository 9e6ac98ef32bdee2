"""The chat's retention: ``chat_purge_anonymous()`` (``db/sql/chat.sql``), run by the worker.

Revision ID: 0019_chat_retention
Revises: 0018_own_profile
Create Date: 2026-12-01 22:10

Anonymous conversations untouched for ``CHAT_RETENTION_DAYS`` are deleted with their messages
by the worker's maintenance. Nothing changes in the tables; the function is one of the
definitions, and this revision's downgrade removes it.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0019_chat_retention"
down_revision = "0018_own_profile"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to migrate: the definitions step creates the function."""


def downgrade() -> None:
    run_script("DROP FUNCTION IF EXISTS chat_purge_anonymous(timestamp with time zone);")
