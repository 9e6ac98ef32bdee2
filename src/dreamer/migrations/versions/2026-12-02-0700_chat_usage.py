"""The chat's usage ledger and its staff-configurable system prompt.

Revision ID: 0020_chat_usage
Revises: 0019_chat_retention
Create Date: 2026-12-02 07:00

- ``chat_usage``: messages and tokens per person (``user:<id>`` or ``visitor:<id>``), hour and
  model, counted by ``chat_usage_hit()`` and ``chat_usage_add()`` (``db/sql/chat.sql``). The
  quotas are checked against it and the staff usage report reads it; it is a ledger apart from
  the messages, so deleting a conversation neither resets a quota nor rewrites the figures.
  An erased account keeps its figures without the link (``user_id`` set null).
- ``chat_settings``: one row, the system prompt staff set for the LLM (absent: the built-in
  prompt of ``dreamer.chat.service``).
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0020_chat_usage"
down_revision = "0019_chat_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        """
        CREATE TABLE chat_usage (
            subject text NOT NULL CHECK (subject ~ '^(user|visitor):.{1,200}$'),
            user_id uuid REFERENCES users (id) ON DELETE SET NULL,
            hour timestamptz NOT NULL CHECK (date_trunc('hour', hour) = hour),
            model text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
            messages integer NOT NULL DEFAULT 0 CHECK (messages >= 0),
            prompt_tokens bigint NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
            completion_tokens bigint NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
            PRIMARY KEY (subject, hour, model)
        );
        CREATE INDEX idx_chat_usage_hour ON chat_usage (hour);
        CREATE INDEX idx_chat_usage_user_id ON chat_usage (user_id);

        CREATE TABLE chat_settings (
            id boolean PRIMARY KEY DEFAULT true CHECK (id),
            system_prompt text NOT NULL CHECK (length(btrim(system_prompt)) BETWEEN 1 AND 8000),
            updated_by uuid REFERENCES users (id) ON DELETE SET NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX idx_chat_settings_updated_by ON chat_settings (updated_by);
        """
    )


def downgrade() -> None:
    run_script(
        """
        DROP FUNCTION IF EXISTS chat_usage_hit(text, integer, integer, bigint);
        DROP FUNCTION IF EXISTS chat_usage_add(text, integer, integer);
        DROP TABLE IF EXISTS chat_settings;
        DROP TABLE IF EXISTS chat_usage;
        """
    )
