"""Round-robin lead assignment from a sequence.

Revision ID: 0014_lead_assignment
Revises: 0013_lead_activity_order
Create Date: 2026-12-01 18:20

``capture_lead`` chose the staff member whose newest lead was oldest: a scan of every lead
of every staff member (its cost grew with the table), under one advisory lock held to commit,
so all contact forms queued behind each other (84 a second in ``make bench``). The turn now
comes from this sequence (``nextval`` never waits and never rolls back): the n-th new lead
goes to the (n mod k)-th of the k staff members who accept leads.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0014_lead_assignment"
down_revision = "0013_lead_activity_order"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("CREATE SEQUENCE lead_assignment_seq AS bigint MINVALUE 0 START 0;")


def downgrade() -> None:
    run_script("DROP SEQUENCE lead_assignment_seq;")
