"""A secret only the owner can read, keying the MAC that makes the request identity unforgeable.

Revision ID: 0008_identity_secret
Revises: 0007_sql_definitions
Create Date: 2026-12-01 13:00

``app_begin`` signs the verified identity with it; ``app_user_id()`` checks the signature (see
``db/sql/core.sql``). 244 bits from two v4 UUIDs (PostgreSQL's strong random source; the wheel's
server has no pgcrypto). The table has no grants and forced RLS with an owner-only policy.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0008_identity_secret"
down_revision = "0007_sql_definitions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        """
        CREATE TABLE app_secrets (
            name text PRIMARY KEY,
            value bytea NOT NULL CHECK (length(value) >= 32),
            created_at timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO app_secrets (name, value)
        VALUES ('identity', sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text,
                                              'UTF8')));
        """
    )


def downgrade() -> None:
    # The functions that read the key go with it. What still calls them (app_begin,
    # app_user_id, …) is restored by the older release's own db/sql/, which its
    # `dreamer migrate` applies (a downgrade clears the recorded checksum).
    run_script(
        """
        DROP FUNCTION IF EXISTS app_role(), app_identity_mac(text, text);
        DROP TABLE app_secrets;
        """
    )
