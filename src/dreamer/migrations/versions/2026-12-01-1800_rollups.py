"""Lead statistics from roll-ups kept by triggers; audit entries ordered within a transaction.

Revision ID: 0012_rollups
Revises: 0011_cache_topics
Create Date: 2026-12-01 18:00

``lead_stats()`` counted every lead on each call, so its cost grew with the table. Two small
tables now hold the answer, changed in the same transaction as the leads by statement
triggers (``db/sql/leads.sql``): ``lead_rollup`` counts leads per status and source, in 16
shards so concurrent contact forms do not queue on one row; ``lead_contact_rollup`` is a
histogram of the time to first contact in 1 % wide buckets, from which the median is read.
Both are filled here from the leads that exist.

Audit entries took ``now()``, the start of their transaction, so the entries one request
wrote (an insert, then the update its trigger made) had one timestamp and no order; they now
take ``clock_timestamp()``.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0012_rollups"
down_revision = "0011_cache_topics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        """
        ALTER TABLE audit_logs ALTER COLUMN created_at SET DEFAULT clock_timestamp();
        CREATE TABLE lead_rollup (
            status lead_status NOT NULL,
            source lead_source NOT NULL,
            shard smallint NOT NULL CHECK (shard BETWEEN 0 AND 15),
            n bigint NOT NULL,
            PRIMARY KEY (status, source, shard)
        );
        CREATE TABLE lead_contact_rollup (
            bucket integer PRIMARY KEY CHECK (bucket >= 0),
            n bigint NOT NULL
        );
        INSERT INTO lead_rollup (status, source, shard, n)
            SELECT status, source, 0, count(*) FROM leads GROUP BY status, source;
        INSERT INTO lead_contact_rollup (bucket, n)
            SELECT floor(ln(1 + greatest(first_contact_seconds, 0) / 60) / ln(1.01))::integer,
                   count(*)
            FROM leads WHERE first_contact_seconds IS NOT NULL GROUP BY 1;
        """
    )


def downgrade() -> None:
    run_script(
        """
        DROP TRIGGER IF EXISTS leads_rollup_insert ON leads;
        DROP TRIGGER IF EXISTS leads_rollup_update ON leads;
        DROP TRIGGER IF EXISTS leads_rollup_delete ON leads;
        DROP TRIGGER IF EXISTS leads_rollup_truncate ON leads;
        DROP FUNCTION IF EXISTS lead_rollup_change();
        DROP FUNCTION IF EXISTS lead_contact_bucket(double precision);
        DROP TABLE lead_contact_rollup;
        DROP TABLE lead_rollup;
        ALTER TABLE audit_logs ALTER COLUMN created_at SET DEFAULT now();
        """
    )
