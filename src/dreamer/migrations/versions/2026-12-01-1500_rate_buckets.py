"""Rate limits as token buckets with a cost per hit (a sliding limit instead of fixed windows).

Revision ID: 0010_rate_buckets
Revises: 0009_least_privilege
Create Date: 2026-12-01 15:00

A fixed window lets twice the limit through around a window boundary and locks a caller out
for the rest of the window however the window began. A bucket (the generic cell rate
algorithm) needs one timestamp per key: the moment it has drained completely. A hit of cost
``c`` moves that moment ``c * window / limit`` later and is refused when it would lie more
than a window ahead. The counters are ephemeral, so the old rows are dropped.
``rate_limit_hit`` gains the cost, which makes it a new function: the old one is dropped here
and ``db/sql/core.sql`` defines the new one.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0010_rate_buckets"
down_revision = "0009_least_privilege"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        """
        DROP FUNCTION IF EXISTS rate_limit_hit(text, integer, integer);
        DELETE FROM rate_limits;
        ALTER TABLE rate_limits DROP COLUMN window_start, DROP COLUMN hits,
            ADD COLUMN drained_at timestamptz NOT NULL;
        CREATE INDEX idx_rate_limits_drained_at ON rate_limits (drained_at);
        """
    )


# The function as revision 0009's release defined it (db/sql/core.sql then).
PREVIOUS = """
CREATE FUNCTION rate_limit_hit(p_key text, p_limit integer, p_window_seconds integer)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    started timestamptz;
    hit_count integer;
    at timestamptz := clock_timestamp();
    window_length interval := make_interval(secs => p_window_seconds);
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_window_seconds IS NULL
       OR p_window_seconds NOT BETWEEN 1 AND 86400 THEN
        RAISE EXCEPTION 'a rate limit needs a positive limit and a window of 1 s to 1 day'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO rate_limits AS r (key_hash, window_start, hits)
    VALUES (encode(sha256(convert_to(p_key, 'UTF8')), 'hex'), at, 1)
    ON CONFLICT (key_hash) DO UPDATE SET
        window_start = CASE WHEN r.window_start + window_length <= at THEN at
                            ELSE r.window_start END,
        hits = CASE WHEN r.window_start + window_length <= at THEN 1 ELSE r.hits + 1 END
    RETURNING window_start, hits INTO started, hit_count;
    IF hit_count <= p_limit THEN
        RETURN 0;
    END IF;
    RETURN greatest(1, ceil(extract(epoch FROM started + window_length - at)))::integer;
END $$;
GRANT EXECUTE ON FUNCTION rate_limit_hit(text, integer, integer) TO dreamer_app;
"""


def downgrade() -> None:
    run_script(
        """
        DROP FUNCTION IF EXISTS rate_limit_hit(text, integer, integer, double precision);
        DELETE FROM rate_limits;
        ALTER TABLE rate_limits DROP COLUMN drained_at,
            ADD COLUMN window_start timestamptz NOT NULL,
            ADD COLUMN hits integer NOT NULL CHECK (hits >= 0);
        CREATE INDEX idx_rate_limits_window_start ON rate_limits (window_start);
        """
        + PREVIOUS
    )
