"""Least privilege for credential work: new signatures of two functions the app role calls.

Revision ID: 0009_least_privilege
Revises: 0008_identity_secret
Create Date: 2026-12-01 13:10

``enqueue_mail`` no longer takes a recipient (it reads it from the database) and
``rate_limit_hit`` no longer takes the time (it uses the database's). A changed signature is a
new function, so the old ones are dropped here; ``db/sql/`` defines the new ones, and moves the
credential functions to the ``dreamer_auth`` role (created by ``dreamer.db.bootstrap``, or by
the operator: see the README).
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0009_least_privilege"
down_revision = "0008_identity_secret"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        """
        DROP FUNCTION enqueue_mail(text, uuid, text, jsonb);
        DROP FUNCTION rate_limit_hit(text, integer, integer, timestamptz);
        """
    )


# The functions as revision 0005 made them: a downgrade puts them back for the older release
# (whose db/sql/ then redefines them) and for the older migrations' own downgrades.
PREVIOUS = """
CREATE FUNCTION rate_limit_hit(p_key text, p_limit integer, p_window_seconds integer,
                               p_now timestamptz)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    started timestamptz;
    hit_count integer;
    window_length interval := make_interval(secs => p_window_seconds);
BEGIN
    INSERT INTO rate_limits AS r (key_hash, window_start, hits)
    VALUES (encode(sha256(convert_to(p_key, 'UTF8')), 'hex'), p_now, 1)
    ON CONFLICT (key_hash) DO UPDATE SET
        window_start = CASE WHEN r.window_start + window_length <= p_now THEN p_now
                            ELSE r.window_start END,
        hits = CASE WHEN r.window_start + window_length <= p_now THEN 1 ELSE r.hits + 1 END
    RETURNING window_start, hits INTO started, hit_count;
    IF hit_count <= p_limit THEN
        RETURN 0;
    END IF;
    RETURN greatest(1, ceil(extract(epoch FROM started + window_length - p_now)))::integer;
END $$;

CREATE FUNCTION enqueue_mail(p_template text, p_user_id uuid, p_to text, p_context jsonb)
RETURNS uuid LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    INSERT INTO mail_outbox (template, user_id, to_address, context)
    VALUES (p_template, p_user_id, p_to, coalesce(p_context, '{}'))
    RETURNING id
$$;
"""


def downgrade() -> None:
    run_script(
        """
        DROP FUNCTION IF EXISTS enqueue_mail(text, uuid, uuid);
        DROP FUNCTION IF EXISTS rate_limit_hit(text, integer, integer);
        DROP FUNCTION IF EXISTS auth_request_password_reset(text);
        """
        + PREVIOUS
    )
