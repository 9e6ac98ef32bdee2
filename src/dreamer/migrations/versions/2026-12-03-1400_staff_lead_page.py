"""A page of the staff's pipeline as the owner: ``staff_lead_page()`` (``db/sql/leads.sql``).

Revision ID: 0024_staff_lead_page
Revises: 0023_report_rollups
Create Date: 2026-12-03 14:00

Under the app role's policy on leads, which reads a column, PostgreSQL may not use enum
equality or full-text ``@@`` as index conditions, so every filtered page of the pipeline walked
an index from its start (seconds at a million leads). ``staff_lead_page()`` checks staff rights
and returns the page's ids from one statement the owner runs; the rows are then read under RLS.
Nothing changes in the tables; the function is one of the definitions, and this revision's
downgrade removes it.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0024_staff_lead_page"
down_revision = "0023_report_rollups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to migrate: the definitions step creates the function."""


def downgrade() -> None:
    run_script("DROP FUNCTION IF EXISTS staff_lead_page(jsonb);")
