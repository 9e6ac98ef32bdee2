"""One's own profile in one statement: ``own_profile()`` (``db/sql/users.sql``).

Revision ID: 0018_own_profile
Revises: 0017_content
Create Date: 2026-12-01 22:00

The signed-in profile read took four round trips on the raw reader (BEGIN, ``app_begin``, the
read, COMMIT). ``own_profile()`` runs ``app_begin`` and the read in one statement, as the
caller under RLS. Nothing changes in the tables; the function is one of the definitions, and
this revision's downgrade removes it.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0018_own_profile"
down_revision = "0017_content"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to migrate: the definitions step creates the function."""


def downgrade() -> None:
    run_script("DROP FUNCTION IF EXISTS own_profile(uuid, uuid, text, text, text, text, text);")
