-- analytics.sql — Privacy-friendly analytics events (monthly partitions).
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- Ingest (dreamer.analytics.service.ingest): a batch of at most 500 events from one client, as
-- the JSON array the API validated, in one statement that writes the events and maintains the
-- daily roll-ups. What identifies the client never reaches a table as such: the visitor is
-- sha256(today's salt || p_visitor) (the API passes its IP and user agent), a client session
-- id is hashed the same way, the account is the request's own (app_user_id()), the network
-- arrives truncated (the table refuses anything finer than a /24 or /48). Client times are
-- clamped to the last day. A visitor counts as one visit a day, its source (referrer, UTM)
-- that of its first page view that day. Roll-up rows are locked in key order, so concurrent
-- batches queue on them but never deadlock. Returns the number of events written.
CREATE OR REPLACE FUNCTION analytics_ingest(p_events jsonb, p_visitor text, p_network inet,
                                            p_browser text, p_os text, p_device text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    today date := (now() AT TIME ZONE 'UTC')::date;
    pepper bytea;
    visitor text;
BEGIN
    IF jsonb_typeof(p_events) IS DISTINCT FROM 'array' OR jsonb_array_length(p_events) > 500 THEN
        RAISE EXCEPTION 'analytics_ingest takes an array of at most 500 events' USING ERRCODE = '22023';
    END IF;
    SELECT s.salt INTO pepper FROM analytics_salts s WHERE s.day = today;
    IF pepper IS NULL THEN
        INSERT INTO analytics_salts (day, salt)
        VALUES (today, uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()))
        ON CONFLICT (day) DO NOTHING;
        SELECT s.salt INTO pepper FROM analytics_salts s WHERE s.day = today;
        DELETE FROM analytics_salts s WHERE s.day < today;
    END IF;
    visitor := left(encode(sha256(pepper || convert_to(coalesce(p_visitor, ''), 'UTF8')), 'hex'), 32);

    WITH e AS (
        SELECT r.event_type, r.page_url, r.path, r.referrer, r.utm_source, r.utm_medium,
               r.utm_campaign, coalesce(r.properties, '{}'::jsonb) AS properties,
               CASE WHEN r.session_id IS NULL THEN visitor ELSE left(encode(sha256(
                   pepper || convert_to('session:' || r.session_id, 'UTF8')), 'hex'), 32) END AS session_hash,
               least(now(), greatest(now() - interval '1 day', coalesce(r.at, now()))) AS at
        FROM jsonb_to_recordset(p_events) AS r(event_type text, page_url text, path text,
             referrer text, utm_source text, utm_medium text, utm_campaign text,
             properties jsonb, session_id text, at timestamptz)
    ), ins AS (
        INSERT INTO analytics_events (user_id, session_id, visitor_hash, event_type, page_url,
             path, referrer, utm_source, utm_medium, utm_campaign, properties, ip_address,
             browser, os, device, created_at)
        SELECT app_user_id(), e.session_hash, visitor, e.event_type, e.page_url, e.path,
               e.referrer, e.utm_source, e.utm_medium, e.utm_campaign, e.properties, p_network,
               p_browser, p_os, p_device, e.at
        FROM e
        RETURNING created_at, event_type, path, referrer, utm_source, utm_medium, utm_campaign
    ), daily AS (
        INSERT INTO analytics_daily AS d (day, event_type, path, events)
        SELECT (i.created_at AT TIME ZONE 'UTC')::date, i.event_type, coalesce(i.path, ''), count(*)
        FROM ins i GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (day, event_type, path) DO UPDATE SET events = d.events + EXCLUDED.events
    ), firsts AS (
        SELECT DISTINCT ON (1) (i.created_at AT TIME ZONE 'UTC')::date AS day, i.referrer,
               i.utm_source, i.utm_medium, i.utm_campaign
        FROM ins i WHERE i.event_type = 'page_view' ORDER BY 1, i.created_at
    ), visit AS (
        INSERT INTO analytics_visits AS v (day, visitor_hash)
        SELECT f.day, visitor FROM firsts f ORDER BY f.day
        ON CONFLICT (day, visitor_hash) DO NOTHING
        RETURNING v.day
    )
    INSERT INTO analytics_daily_sources AS s (day, referrer, utm_source, utm_medium, utm_campaign, visits)
    SELECT f.day, coalesce(f.referrer, ''), coalesce(f.utm_source, ''), coalesce(f.utm_medium, ''),
           coalesce(f.utm_campaign, ''), 1
    FROM firsts f JOIN visit USING (day)
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, referrer, utm_source, utm_medium, utm_campaign)
        DO UPDATE SET visits = s.visits + EXCLUDED.visits;
    RETURN jsonb_array_length(p_events);
END $$;

GRANT EXECUTE ON FUNCTION analytics_ingest(jsonb, text, inet, text, text, text) TO dreamer_app;

-- Retention (the worker's hourly maintenance, ANALYTICS_RETENTION_MONTHS): the monthly
-- partitions of events before the first day of the month p_months ago are dropped whole (no
-- row is deleted from a kept month), as are the roll-ups of those days and any such rows in
-- the default partition; past days' visitor hashes (kept one day, to count a visitor once a
-- day) and salts go too. Returns the partitions dropped.
CREATE OR REPLACE FUNCTION analytics_retain(p_months integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    today date := (now() AT TIME ZONE 'UTC')::date;
    cutoff date;
    part record;
    dropped integer := 0;
BEGIN
    IF p_months IS NULL OR p_months < 1 THEN
        RAISE EXCEPTION 'analytics retention keeps at least one month' USING ERRCODE = '22023';
    END IF;
    cutoff := (date_trunc('month', today) - make_interval(months => p_months))::date;
    PERFORM pg_advisory_xact_lock(hashtext('ensure_monthly_partitions:analytics_events'));
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'public.analytics_events'::regclass
          AND c.relname ~ '^analytics_events_[0-9]{4}_[0-9]{2}$'
          AND to_date(right(c.relname, 7), 'YYYY_MM') < cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE public.%I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    DELETE FROM analytics_events e WHERE e.created_at < cutoff::timestamp AT TIME ZONE 'UTC';
    DELETE FROM analytics_daily d WHERE d.day < cutoff;
    DELETE FROM analytics_daily_sources s WHERE s.day < cutoff;
    DELETE FROM analytics_visits v WHERE v.day < today - 1;
    DELETE FROM analytics_salts s WHERE s.day < today;
    RETURN dropped;
END $$;

-- The lead funnel (staff): per lead source, the leads created in [p_since, p_until), those
-- whose person booked a consultation (their account, or the account with their address),
-- and those converted. It runs as the owner because the policies of leads, users and
-- bookings, evaluated per row for thousands of leads, cost far more than the query; it
-- checks the caller itself and returns counts only.
CREATE OR REPLACE FUNCTION analytics_lead_stages(p_since timestamptz, p_until timestamptz)
RETURNS TABLE (source text, leads bigint, booked bigint, converted bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT app_is_staff() THEN
        RAISE EXCEPTION 'the lead funnel is for staff' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT l.source::text, count(*)::bigint,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM service_bookings b
               WHERE b.user_id = coalesce(l.user_id, (
                   SELECT u.id FROM users u WHERE lower(u.email) = l.email_normalized))
           ))::bigint,
           count(*) FILTER (WHERE l.status = 'converted')::bigint
    FROM leads l WHERE l.created_at >= p_since AND l.created_at < p_until
    GROUP BY 1 ORDER BY 2 DESC, 1;
END $$;

GRANT EXECUTE ON FUNCTION analytics_lead_stages(timestamptz, timestamptz) TO dreamer_app;

-- analytics_events: written only through analytics_ingest(); staff read them
ALTER TABLE analytics_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_events FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON analytics_events TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON analytics_events FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT ON analytics_events TO dreamer_app;

-- the roll-ups: staff read them; only analytics_ingest() and analytics_retain() write them
ALTER TABLE analytics_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_daily FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON analytics_daily TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON analytics_daily FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT ON analytics_daily TO dreamer_app;

ALTER TABLE analytics_daily_sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_daily_sources FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON analytics_daily_sources TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON analytics_daily_sources FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT ON analytics_daily_sources TO dreamer_app;

-- today's visitor hashes and the daily salts: the owner only (no grant, forced RLS)
ALTER TABLE analytics_visits ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_visits FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON analytics_visits TO dreamer_owner
    USING (true)
    WITH CHECK (true);

ALTER TABLE analytics_salts ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_salts FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON analytics_salts TO dreamer_owner
    USING (true)
    WITH CHECK (true);

-- Partitions made so far (ensure_monthly_partitions does the same for each new one): reached
-- directly rather than through analytics_events, they must not bypass its policies either.
DO $$
DECLARE part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'analytics_events'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', part);
    END LOOP;
END $$;
