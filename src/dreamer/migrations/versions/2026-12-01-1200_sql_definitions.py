"""SQL objects get one definition each, in ``dreamer/db/sql/*.sql``.

Revision ID: 0007_sql_definitions
Revises: 0006_leads_newsletter
Create Date: 2026-12-01 12:00

Until now functions, triggers, policies and grants were written inside the migrations. From here
on their current definitions live in ``db/sql/`` and are applied by the repeatable step that runs
after the last migration of every ``dreamer migrate`` (``dreamer.db.definitions``); this
migration creates the table where that step records the checksums of what it applied. The first
application also makes every grant explicit: column lists written out instead of computed from
``information_schema``, and no function callable by PUBLIC unless a file grants it.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0007_sql_definitions"
down_revision = "0006_leads_newsletter"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        """
        CREATE TABLE schema_definitions (
            name text PRIMARY KEY,
            checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE schema_definitions IS
            'Checksums of the db/sql/ files last applied (see dreamer.db.definitions)';
        """
    )


def downgrade() -> None:
    run_script("DROP TABLE schema_definitions")
