"""The lead roll-ups' triggers run static SQL, one function per event.

Revision ID: 0015_rollup_functions
Revises: 0014_lead_assignment
Create Date: 2026-12-01 19:00

``lead_rollup_change()`` built its statement as dynamic SQL (the transition tables exist only
for their event), planned again on every statement, and ran even for an UPDATE that touched no
row. The new functions (``lead_rollup_insert/update/delete``, ``lead_rollup_apply``) are
defined in ``db/sql/leads.sql``; this drops the old one and its triggers, which the
definitions step then recreates on the new functions.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0015_rollup_functions"
down_revision = "0014_lead_assignment"
branch_labels = None
depends_on = None

TRIGGERS = """
    DROP TRIGGER IF EXISTS leads_rollup_insert ON leads;
    DROP TRIGGER IF EXISTS leads_rollup_update ON leads;
    DROP TRIGGER IF EXISTS leads_rollup_delete ON leads;
    DROP TRIGGER IF EXISTS leads_rollup_truncate ON leads;
"""


def upgrade() -> None:
    run_script(TRIGGERS + "DROP FUNCTION IF EXISTS lead_rollup_change();")


def downgrade() -> None:
    run_script(
        TRIGGERS
        + """
        DROP FUNCTION IF EXISTS lead_rollup_insert();
        DROP FUNCTION IF EXISTS lead_rollup_update();
        DROP FUNCTION IF EXISTS lead_rollup_delete();
        DROP FUNCTION IF EXISTS lead_rollup_apply(jsonb);
        """
    )
