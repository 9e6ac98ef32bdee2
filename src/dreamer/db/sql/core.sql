-- core.sql — The request context every policy reads, shared helpers, rate-limit counters, schema version.
-- Applied first: every other file builds on these.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- The app role may use the schema; nobody else gets anything by default.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO dreamer_app;

CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION ensure_monthly_partitions(parent regclass, months_ahead integer DEFAULT 3)
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

GRANT EXECUTE ON FUNCTION ensure_monthly_partitions(regclass,integer) TO dreamer_app;

CREATE OR REPLACE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE
RETURN nullif(current_setting('app.user_id', true), '')::uuid;

GRANT EXECUTE ON FUNCTION app_user_id() TO dreamer_app;

CREATE OR REPLACE FUNCTION app_visitor_id() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
RETURN nullif(current_setting('app.visitor_id', true), '');

GRANT EXECUTE ON FUNCTION app_visitor_id() TO dreamer_app;

CREATE OR REPLACE FUNCTION app_has_role(roles text[]) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT coalesce(
        current_setting('app.role', true) = ANY (roles)
        AND EXISTS (
            SELECT 1 FROM users u
            WHERE u.id = app_user_id()
              AND u.role::text = current_setting('app.role', true)
              AND u.status = 'active'
        ),
        false)
$$;

GRANT EXECUTE ON FUNCTION app_has_role(text[]) TO dreamer_app;

CREATE OR REPLACE FUNCTION app_is_staff() RETURNS boolean LANGUAGE sql STABLE
RETURN app_has_role(ARRAY['admin', 'super_admin']);

GRANT EXECUTE ON FUNCTION app_is_staff() TO dreamer_app;

CREATE OR REPLACE FUNCTION app_is_super_admin() RETURNS boolean LANGUAGE sql STABLE
RETURN app_has_role(ARRAY['super_admin']);

GRANT EXECUTE ON FUNCTION app_is_super_admin() TO dreamer_app;

CREATE OR REPLACE FUNCTION app_is_privileged() RETURNS boolean LANGUAGE sql STABLE
RETURN pg_has_role(current_user, 'dreamer_owner', 'MEMBER');

GRANT EXECUTE ON FUNCTION app_is_privileged() TO dreamer_app;

-- Readiness: the app role may learn the schema version, not read Alembic's table.
CREATE OR REPLACE FUNCTION schema_version() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT version_num FROM public.alembic_version LIMIT 1
$$;

GRANT EXECUTE ON FUNCTION schema_version() TO dreamer_app;

CREATE OR REPLACE FUNCTION app_begin(p_user_id uuid, p_session_id uuid, p_role text, p_visitor_id text,
                          p_ip text, p_user_agent text, p_request_id text)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF p_user_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM users u JOIN user_sessions s ON s.user_id = u.id
        WHERE u.id = p_user_id AND s.id = p_session_id
          AND s.revoked_at IS NULL AND s.expires_at > now()
          AND u.role::text = p_role AND u.status IN ('active', 'pending_verification')
    ) THEN
        RETURN false;
    END IF;
    PERFORM set_config('app.user_id', coalesce(p_user_id::text, ''), true),
            set_config('app.role', CASE WHEN p_user_id IS NULL THEN 'anonymous' ELSE p_role END,
                       true),
            set_config('app.visitor_id', coalesce(p_visitor_id, ''), true),
            set_config('app.ip', coalesce(p_ip, ''), true),
            set_config('app.user_agent', coalesce(left(p_user_agent, 1000), ''), true),
            set_config('app.request_id', coalesce(p_request_id, ''), true);
    RETURN true;
END $$;

GRANT EXECUTE ON FUNCTION app_begin(uuid,uuid,text,text,text,text,text) TO dreamer_app;

-- Fixed-window counter; returns 0 when the hit is allowed, else seconds until the window ends.
-- Keys are stored hashed: they contain e-mail addresses and IPs.
CREATE OR REPLACE FUNCTION rate_limit_hit(p_key text, p_limit integer, p_window_seconds integer,
                               p_now timestamptz)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
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

GRANT EXECUTE ON FUNCTION rate_limit_hit(text,integer,integer,timestamp with time zone) TO dreamer_app;

CREATE OR REPLACE FUNCTION email_hash(p_email text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN encode(sha256(convert_to(lower(btrim(p_email)), 'UTF8')), 'hex');


-- schema_definitions: what the repeatable step applied (owner only)
ALTER TABLE schema_definitions ENABLE ROW LEVEL SECURITY;
ALTER TABLE schema_definitions FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON schema_definitions TO dreamer_owner
    USING (true)
    WITH CHECK (true);

-- rate_limits
ALTER TABLE rate_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limits FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON rate_limits TO dreamer_owner
    USING (true)
    WITH CHECK (true);
