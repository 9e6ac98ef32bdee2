"""audit_logs and analytics_events, range-partitioned by month, with partitions made ahead.

Revision ID: 0002_partitioned_logs
Revises: 0001_core_schema
Create Date: 2026-11-30 04:10

``ensure_monthly_partitions(parent, months_ahead)`` creates the partitions from last month to
``months_ahead`` months ahead; the migration, every service start and a daily worker job call it.
A DEFAULT partition catches anything outside the made months (a back-dated import, a stopped
worker) so an insert never fails; the next ensure call moves such rows into their month.

Neither table has a foreign key to users: the audit trail must outlive what it records, and the
analytics insert path stays free of FK checks. GDPR erasure handles both explicitly.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0002_partitioned_logs"
down_revision = "0001_core_schema"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE audit_logs (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid,
    action text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    entity_type text NOT NULL CHECK (length(entity_type) BETWEEN 1 AND 100),
    entity_id uuid,
    old_values jsonb,
    new_values jsonb,
    ip_address inet,
    user_agent text,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX idx_audit_logs_entity ON audit_logs (entity_type, entity_id, created_at DESC);
CREATE INDEX idx_audit_logs_user_id ON audit_logs (user_id, created_at DESC);
CREATE INDEX idx_audit_logs_created_at ON audit_logs (created_at DESC);
CREATE TABLE audit_logs_default PARTITION OF audit_logs DEFAULT;

CREATE TABLE analytics_events (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid,
    session_id text CHECK (length(session_id) <= 100),
    event_type text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 100),
    page_url text CHECK (length(page_url) <= 2000),
    properties jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
    ip_address inet,
    user_agent text CHECK (length(user_agent) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX idx_analytics_events_type_time ON analytics_events (event_type, created_at DESC);
CREATE INDEX idx_analytics_events_created_at ON analytics_events (created_at DESC);
CREATE INDEX idx_analytics_events_user_id ON analytics_events (user_id);
CREATE INDEX idx_analytics_events_session_id ON analytics_events (session_id);
CREATE TABLE analytics_events_default PARTITION OF analytics_events DEFAULT;

CREATE FUNCTION ensure_monthly_partitions(parent regclass, months_ahead integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    parent_name text := (SELECT relname FROM pg_class WHERE oid = parent);
    month_start date;
    part_name text;
    created integer := 0;
BEGIN
    IF parent_name NOT IN ('audit_logs', 'analytics_events') THEN
        RAISE EXCEPTION 'not a monthly-partitioned table: %', parent_name;
    END IF;
    -- Serialise concurrent callers (two workers starting at once).
    PERFORM pg_advisory_xact_lock(hashtext('ensure_monthly_partitions:' || parent_name));
    FOR i IN -1..greatest(months_ahead, 0) LOOP
        month_start := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date;
        part_name := format('%s_%s', parent_name, to_char(month_start, 'YYYY_MM'));
        CONTINUE WHEN to_regclass('public.' || quote_ident(part_name)) IS NOT NULL;
        EXECUTE format('CREATE TABLE public.%I (LIKE public.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       part_name, parent_name);
        -- Rows that fell into the default partition move to their month before attaching.
        -- (Deleted through the parent, whose policies admit the owner; the partition has none.)
        EXECUTE format(
            'WITH moved AS (DELETE FROM public.%I WHERE created_at >= %L::timestamptz
                                             AND created_at < %L::timestamptz RETURNING *)
             INSERT INTO public.%I SELECT * FROM moved',
            parent_name, month_start::timestamp AT TIME ZONE 'UTC',
            (month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC', part_name);
        EXECUTE format('ALTER TABLE public.%I ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)',
                       parent_name, part_name,
                       month_start::timestamp AT TIME ZONE 'UTC',
                       (month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        -- A partition read directly (not through its parent) has no policies: deny everything.
        EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', part_name);
        EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', part_name);
        created := created + 1;
    END LOOP;
    RETURN created;
END $$;
REVOKE ALL ON FUNCTION ensure_monthly_partitions(regclass, integer) FROM PUBLIC;

SELECT ensure_monthly_partitions('audit_logs', 3);
SELECT ensure_monthly_partitions('analytics_events', 3);
"""

DOWNGRADE = """
DROP FUNCTION ensure_monthly_partitions(regclass, integer);
DROP TABLE analytics_events;
DROP TABLE audit_logs;
"""


def upgrade() -> None:
    run_script(UPGRADE)


def downgrade() -> None:
    run_script(DOWNGRADE)
