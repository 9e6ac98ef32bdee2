"""The staff's conversation list in index order: last active first.

Revision ID: 0025_chat_activity_index
Revises: 0024_staff_lead_page
Create Date: 2026-12-04 14:00

``GET /api/v1/admin/chat/conversations`` lists conversations by ``updated_at`` (the last
message) and id, newest first, a page at a time; with no index on that order every page sorted
all of them (found by the plan test once the generator wrote conversations). The same release
changes the message policies in ``db/sql/chat.sql`` (a per-row check of the conversation), which
the definitions step applies.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0025_chat_activity_index"
down_revision = "0024_staff_lead_page"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        "CREATE INDEX idx_chat_conversations_activity"
        " ON chat_conversations (updated_at DESC, id DESC);"
    )


def downgrade() -> None:
    run_script("DROP INDEX IF EXISTS idx_chat_conversations_activity;")
