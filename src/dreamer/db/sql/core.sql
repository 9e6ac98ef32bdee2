-- core.sql — The request context every policy reads, shared helpers, rate-limit counters, schema version.
-- Applied first: every other file builds on these.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- The app role may use the schema; nobody else gets anything by default, not even EXECUTE on a
-- function created from now on (PostgreSQL's default grants that to PUBLIC).
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO dreamer_app;
ALTER DEFAULT PRIVILEGES FOR ROLE dreamer_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION ensure_monthly_partitions(parent regclass, months_ahead integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
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

-- The request identity. app_begin() checks the caller's session and then sets app.user_id and
-- app.role together with app.identity, a MAC over both, the backend and the transaction, keyed
-- by a secret only the owner can read. Everything that trusts the identity (policies, the audit
-- trail, the staff checks) reads it through app_user_id()/app_role(), which verify the MAC: a
-- bare set_config() from the app role — what an SQL injection can do — gives the anonymous
-- view, and a MAC seen in one transaction is worthless in the next.
CREATE OR REPLACE FUNCTION app_identity_mac(p_user_id text, p_role text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT encode(sha256(s.value || sha256(s.value || convert_to(
               concat_ws('|', p_user_id, p_role, pg_backend_pid(), transaction_timestamp()),
               'UTF8'))), 'hex')
    FROM app_secrets s WHERE s.name = 'identity'
$$;

CREATE OR REPLACE FUNCTION app_user_id() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT CASE
        WHEN nullif(current_setting('app.user_id', true), '') IS NOT NULL
         AND current_setting('app.identity', true) = app_identity_mac(
                 current_setting('app.user_id', true), current_setting('app.role', true))
        THEN current_setting('app.user_id', true)::uuid
    END
$$;

GRANT EXECUTE ON FUNCTION app_user_id() TO dreamer_app;

-- The verified role: the claimed one only when app_user_id() verified it, else anonymous.
CREATE OR REPLACE FUNCTION app_role() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT CASE WHEN app_user_id() IS NOT NULL THEN current_setting('app.role', true)
                ELSE 'anonymous' END
$$;

GRANT EXECUTE ON FUNCTION app_role() TO dreamer_app;

CREATE OR REPLACE FUNCTION app_visitor_id() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
RETURN nullif(current_setting('app.visitor_id', true), '');

GRANT EXECUTE ON FUNCTION app_visitor_id() TO dreamer_app;

CREATE OR REPLACE FUNCTION app_has_role(roles text[]) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT coalesce(
        app_role() = ANY (roles)
        AND EXISTS (
            SELECT 1 FROM users u
            WHERE u.id = app_user_id()
              AND u.role::text = app_role()
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
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT version_num FROM public.alembic_version LIMIT 1
$$;

GRANT EXECUTE ON FUNCTION schema_version() TO dreamer_app;

CREATE OR REPLACE FUNCTION app_begin(p_user_id uuid, p_session_id uuid, p_role text, p_visitor_id text,
                          p_ip text, p_user_agent text, p_request_id text)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF p_user_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM users u JOIN user_sessions s ON s.user_id = u.id
        WHERE u.id = p_user_id AND s.id = p_session_id
          AND s.revoked_at IS NULL AND s.expires_at > now()
          AND u.status IN ('active', 'pending_verification')
          -- the token's role, or a visitor since promoted to client (booking, buying): that
          -- upgrade keeps the session, which acts as the visitor it was until it refreshes.
          -- Every other change (a downgrade, a staff role granted or taken) ends it at once.
          AND (u.role::text = p_role OR (p_role = 'visitor' AND u.role = 'client'))
    ) THEN
        RETURN false;
    END IF;
    PERFORM set_config('app.user_id', coalesce(p_user_id::text, ''), true),
            set_config('app.role', CASE WHEN p_user_id IS NULL THEN 'anonymous' ELSE p_role END,
                       true),
            set_config('app.identity', CASE WHEN p_user_id IS NULL THEN ''
                                            ELSE app_identity_mac(p_user_id::text, p_role) END,
                       true),
            set_config('app.visitor_id', coalesce(p_visitor_id, ''), true),
            set_config('app.ip', coalesce(p_ip, ''), true),
            set_config('app.user_agent', coalesce(left(p_user_agent, 1000), ''), true),
            set_config('app.request_id', coalesce(p_request_id, ''), true);
    RETURN true;
END $$;

GRANT EXECUTE ON FUNCTION app_begin(uuid,uuid,text,text,text,text,text) TO dreamer_app;

-- A token bucket per key (the generic cell rate algorithm): `drained_at` is when the bucket is
-- empty again. A hit of cost c moves it c * window / limit later, and is refused (not counted)
-- when that would lie more than one window ahead: a burst of `limit` hits of cost 1, then one
-- every window / limit, with no fixed-window edge that lets twice the limit through. Returns 0
-- when the hit is allowed, else the seconds until it would be. Keys are stored hashed: they
-- contain e-mail addresses and IPs. The clock is the database's, and limit, window and cost
-- are bounded, so no caller can reset or widen someone else's bucket.
CREATE OR REPLACE FUNCTION rate_limit_hit(p_key text, p_limit integer, p_window_seconds integer,
                                          p_cost double precision)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    at timestamptz := clock_timestamp();
    key text := encode(sha256(convert_to(p_key, 'UTF8')), 'hex');
    window_length interval := make_interval(secs => p_window_seconds);
    step interval;
    drained timestamptz;
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_window_seconds IS NULL
       OR p_window_seconds NOT BETWEEN 1 AND 86400
       OR p_cost IS NULL OR NOT (p_cost > 0 AND p_cost <= p_limit) THEN
        RAISE EXCEPTION 'a rate limit needs a positive limit, a window of 1 s to 1 day and a cost in (0, limit]'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    step := make_interval(secs => p_window_seconds * p_cost / p_limit);
    INSERT INTO rate_limits AS r (key_hash, drained_at)
    VALUES (key, at + step)
    -- the time is read again once the row is locked: a hit that waited for the lock is
    -- judged at the moment it is counted, not at the moment it started waiting
    ON CONFLICT (key_hash) DO UPDATE
        SET drained_at = greatest(r.drained_at, clock_timestamp()) + step
        WHERE greatest(r.drained_at, clock_timestamp()) + step <= clock_timestamp() + window_length
    RETURNING drained_at INTO drained;
    IF FOUND THEN
        RETURN 0;
    END IF;
    SELECT r.drained_at INTO drained FROM rate_limits r WHERE r.key_hash = key;
    RETURN greatest(1, ceil(extract(epoch FROM drained + step - clock_timestamp() - window_length)))::integer;
END $$;

GRANT EXECUTE ON FUNCTION rate_limit_hit(text,integer,integer,double precision) TO dreamer_app;

-- The public-read cache's invalidation (dreamer.db.cache): a statement that changes a table
-- behind cached reads bumps its topic (the trigger's argument) in the same transaction and
-- announces the new version on channel dreamer_cache; NOTIFY is delivered at commit, so a
-- worker never drops its copy before the change is visible, and a rolled-back change sends
-- nothing.
CREATE OR REPLACE FUNCTION cache_touch() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    touched text := TG_ARGV[0];
    bumped bigint;
BEGIN
    UPDATE cache_topics c SET version = c.version + 1 WHERE c.topic = touched
    RETURNING c.version INTO bumped;
    IF bumped IS NULL THEN
        RAISE EXCEPTION 'unknown cache topic %', touched;
    END IF;
    PERFORM pg_notify('dreamer_cache', touched || ':' || bumped);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION email_hash(p_email text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN encode(sha256(convert_to(lower(btrim(p_email)), 'UTF8')), 'hex');


-- app_secrets: the identity MAC key (owner only: no grant, forced RLS)
ALTER TABLE app_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE app_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON app_secrets TO dreamer_owner
    USING (true)
    WITH CHECK (true);

-- schema_definitions: what the repeatable step applied (owner only)
ALTER TABLE schema_definitions ENABLE ROW LEVEL SECURITY;
ALTER TABLE schema_definitions FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON schema_definitions TO dreamer_owner
    USING (true)
    WITH CHECK (true);

-- cache_topics: readable by the app (the workers' version check), written by cache_touch()
ALTER TABLE cache_topics ENABLE ROW LEVEL SECURITY;
ALTER TABLE cache_topics FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON cache_topics TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON cache_topics FOR SELECT TO dreamer_app
    USING (true);
GRANT SELECT ON cache_topics TO dreamer_app;

-- rate_limits
ALTER TABLE rate_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limits FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON rate_limits TO dreamer_owner
    USING (true)
    WITH CHECK (true);
