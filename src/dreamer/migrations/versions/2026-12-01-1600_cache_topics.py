"""Versions of what the public-read cache holds, bumped (and announced) by the tables' triggers.

Revision ID: 0011_cache_topics
Revises: 0010_rate_buckets
Create Date: 2026-12-01 16:00

Each worker caches anonymous public reads in memory (``dreamer.db.cache``). A change to a
table behind them bumps its topic's version in the same transaction and sends
``NOTIFY dreamer_cache, '<topic>:<version>'``, delivered at commit; the workers listen, and
also compare the versions every second in case their listening connection was lost. The
function and the triggers are defined in ``db/sql/`` (core.sql, catalog.sql).
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0011_cache_topics"
down_revision = "0010_rate_buckets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        """
        CREATE TABLE cache_topics (
            topic text PRIMARY KEY,
            version bigint NOT NULL DEFAULT 0 CHECK (version >= 0)
        );
        INSERT INTO cache_topics (topic) VALUES ('services');
        """
    )


def downgrade() -> None:
    run_script(
        """
        DROP TRIGGER IF EXISTS services_cache_touch ON services;
        DROP FUNCTION IF EXISTS cache_touch();
        DROP TABLE cache_topics;
        """
    )
