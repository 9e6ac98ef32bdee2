"""Lead-list indexes in the list's own order.

Revision ID: 0016_lead_list_order
Revises: 0015_rollup_functions
Create Date: 2026-12-01 19:10

The pipeline lists newest first with keyset pages on (created_at, id), mostly filtered by
status, or by source and status. The indexes on status and on (source, status) found the
matching leads but not in that order, so each page sorted all of them: the cost grew with the
table (``bench.staff``). They now end in (created_at DESC, id DESC), as does the plain
created_at index, and the keyset condition is a row comparison the index can start from.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0016_lead_list_order"
down_revision = "0015_rollup_functions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        """
        DROP INDEX idx_leads_status;
        CREATE INDEX idx_leads_status ON leads (status, created_at DESC, id DESC);
        DROP INDEX idx_leads_source;
        CREATE INDEX idx_leads_source ON leads (source, status, created_at DESC, id DESC);
        DROP INDEX idx_leads_created_at;
        CREATE INDEX idx_leads_created_at ON leads (created_at DESC, id DESC);
        """
    )


def downgrade() -> None:
    run_script(
        """
        DROP INDEX idx_leads_status;
        CREATE INDEX idx_leads_status ON leads (status);
        DROP INDEX idx_leads_source;
        CREATE INDEX idx_leads_source ON leads (source, status);
        DROP INDEX idx_leads_created_at;
        CREATE INDEX idx_leads_created_at ON leads (created_at DESC);
        """
    )
