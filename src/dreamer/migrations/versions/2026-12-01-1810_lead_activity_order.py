"""An index for the lead list sorted by last activity.

Revision ID: 0013_lead_activity_order
Revises: 0012_rollups
Create Date: 2026-12-01 18:10

``GET /api/v1/leads?sort=-lastActivityAt`` (the pipeline's "what moved lately") sorted the
whole table: found by the plan test (tests/db/test_plans.py) on a generated data set.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0013_lead_activity_order"
down_revision = "0012_rollups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("CREATE INDEX idx_leads_last_activity ON leads (last_activity_at DESC, id DESC);")


def downgrade() -> None:
    run_script("DROP INDEX idx_leads_last_activity;")
