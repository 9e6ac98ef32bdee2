"""GDPR erasure records.

Revision ID: 0022_gdpr
Revises: 0021_analytics
Create Date: 2026-12-02 15:00

``gdpr_erasures``: that an erasure happened — when, on whose request (the person, a staff
member, the CLI), the rows it deleted or pseudonymised per table — and no personal data: the
erased person appears only as ``pseudonym``, the id their audit entries now carry. Written by
``gdpr_erase()`` (``db/sql/gdpr.sql``), read by staff.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0022_gdpr"
down_revision = "0021_analytics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        """
        CREATE TABLE gdpr_erasures (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            pseudonym uuid NOT NULL UNIQUE,
            requested_by text NOT NULL CHECK (requested_by IN ('self', 'staff', 'cli')),
            staff_id uuid REFERENCES users (id) ON DELETE SET NULL,
            counts jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(counts) = 'object'),
            erased_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX idx_gdpr_erasures_staff_id ON gdpr_erasures (staff_id);
        CREATE INDEX idx_gdpr_erasures_erased_at ON gdpr_erasures (erased_at DESC);
        """
    )


def downgrade() -> None:
    run_script(
        """
        DROP FUNCTION IF EXISTS gdpr_export(uuid);
        DROP FUNCTION IF EXISTS gdpr_erase(uuid);
        DROP FUNCTION IF EXISTS gdpr_scrub(jsonb, text[]);
        DROP FUNCTION IF EXISTS gdpr_may_act_on(uuid, user_role);
        DROP TABLE IF EXISTS gdpr_erasures;
        """
    )
