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

-- The business figures of the reports (dashboard, lead funnel, revenue), one row per UTC day in
-- report_daily, report_daily_leads and report_daily_revenue (migration 0023). A write to users,
-- leads, lead_activities or service_bookings appends the days it touched to report_stale (the
-- statement triggers below: plain inserts, so no writer waits on another or on a report);
-- report_refresh() recomputes those days from the tables. A transaction still open when a
-- refresh runs keeps its own marks, so its days are computed again once it has committed.
-- What a day holds:
--   new_users  accounts made that day;       bookings  bookings made that day;
--   forms      contact forms that day (inquiry activities of leads whose source is website);
--   leads, booked, converted  per day the lead was made and source: the leads, those whose
--              person has a booking (their account's, or the account with their address), and
--              those converted;
--   completed, minutes  per day of the meeting and service: completed bookings, their length.
CREATE OR REPLACE FUNCTION report_refresh() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    days date[];
BEGIN
    IF NOT (app_is_staff() OR pg_has_role(session_user, 'dreamer_worker', 'MEMBER')
            OR pg_has_role(session_user, 'dreamer_owner', 'MEMBER')) THEN
        RAISE EXCEPTION 'the reports are for staff' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM report_stale) THEN
        RETURN 0;
    END IF;
    -- one refresh at a time; the next one, once this has committed, sees what it computed
    PERFORM pg_advisory_xact_lock(hashtext('report_refresh'));
    WITH gone AS (DELETE FROM report_stale RETURNING day)
    SELECT array_agg(DISTINCT g.day) INTO days FROM gone g;
    IF days IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM report_daily r WHERE r.day = ANY (days);
    DELETE FROM report_daily_leads r WHERE r.day = ANY (days);
    DELETE FROM report_daily_revenue r WHERE r.day = ANY (days);

    INSERT INTO report_daily (day, new_users, bookings, forms)
    SELECT w.day, u.n, b.n, f.n
    FROM (SELECT d, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC'
          FROM unnest(days) AS d) AS w(day, t0, t1)
    CROSS JOIN LATERAL (SELECT count(*) AS n FROM users x
                        WHERE x.created_at >= w.t0 AND x.created_at < w.t1) u
    CROSS JOIN LATERAL (SELECT count(*) AS n FROM service_bookings x
                        WHERE x.created_at >= w.t0 AND x.created_at < w.t1) b
    CROSS JOIN LATERAL (SELECT count(*) AS n FROM lead_activities a JOIN leads l ON l.id = a.lead_id
                        WHERE a.activity_type = 'inquiry' AND l.source = 'website'
                          AND a.created_at >= w.t0 AND a.created_at < w.t1) f
    WHERE u.n + b.n + f.n > 0;

    -- per day (LATERAL), as are the revenue's: each day is an index range of its own
    INSERT INTO report_daily_leads (day, source, leads, booked, converted)
    SELECT w.day, c.source, c.leads, c.booked, c.converted
    FROM (SELECT d, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC'
          FROM unnest(days) AS d) AS w(day, t0, t1)
    CROSS JOIN LATERAL (
        SELECT l.source, count(*) AS leads,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM service_bookings b
                   WHERE b.user_id = coalesce(l.user_id, (
                       SELECT u.id FROM users u WHERE lower(u.email) = l.email_normalized))))
                   AS booked,
               count(*) FILTER (WHERE l.status = 'converted') AS converted
        FROM leads l WHERE l.created_at >= w.t0 AND l.created_at < w.t1
        GROUP BY 1) c;

    -- per day, so the meetings are found by their time, not among all completed ones
    INSERT INTO report_daily_revenue (day, service_id, completed, minutes)
    SELECT w.day, r.service_id, r.n, r.minutes
    FROM (SELECT d, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC'
          FROM unnest(days) AS d) AS w(day, t0, t1)
    CROSS JOIN LATERAL (SELECT b.service_id, count(*) AS n, sum(b.duration_minutes) AS minutes
                        FROM service_bookings b
                        WHERE b.scheduled_at >= w.t0 AND b.scheduled_at < w.t1
                          AND b.status = 'completed'
                        GROUP BY 1) r;
    RETURN cardinality(days);
END $$;

GRANT EXECUTE ON FUNCTION report_refresh() TO dreamer_app;

-- Emptied tables (TRUNCATE): every day the roll-ups hold is computed again.
CREATE OR REPLACE FUNCTION report_stale_all() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    INSERT INTO report_stale (day)
    SELECT day FROM report_daily
    UNION SELECT day FROM report_daily_leads
    UNION SELECT day FROM report_daily_revenue
$$;

-- users: the day an account was made; and the leads an account's address matches (a change of
-- address, or its removal, can change whether their person booked)
CREATE OR REPLACE FUNCTION report_stale_users() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO report_stale (day)
        SELECT DISTINCT (n.created_at AT TIME ZONE 'UTC')::date FROM new_rows n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO report_stale (day)
        WITH moved AS (
            SELECT o.created_at AS was, n.created_at AS now_at, lower(o.email) AS old_email,
                   lower(n.email) AS new_email
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.email IS DISTINCT FROM n.email OR o.created_at IS DISTINCT FROM n.created_at)
        SELECT DISTINCT d FROM (
            SELECT (m.was AT TIME ZONE 'UTC')::date FROM moved m
            UNION ALL SELECT (m.now_at AT TIME ZONE 'UTC')::date FROM moved m
            UNION ALL SELECT (l.created_at AT TIME ZONE 'UTC')::date
                FROM leads l JOIN moved m ON l.email_normalized IN (m.old_email, m.new_email)
        ) AS t(d);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO report_stale (day)
        SELECT DISTINCT d FROM (
            SELECT (o.created_at AT TIME ZONE 'UTC')::date FROM old_rows o
            UNION ALL SELECT (l.created_at AT TIME ZONE 'UTC')::date
                FROM leads l JOIN old_rows o ON l.email_normalized = lower(o.email)
        ) AS t(d);
    ELSE
        PERFORM report_stale_all();
    END IF;
    RETURN NULL;
END $$;

-- leads: the day a lead was made (a change of status, source, person or day moves its counts);
-- a change of source also moves its contact forms
CREATE OR REPLACE FUNCTION report_stale_leads() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO report_stale (day)
        SELECT DISTINCT (n.created_at AT TIME ZONE 'UTC')::date FROM new_rows n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO report_stale (day)
        WITH moved AS (
            SELECT o.id, o.created_at AS was, n.created_at AS now_at,
                   o.source IS DISTINCT FROM n.source AS resourced
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.status, o.source, o.created_at, o.user_id, o.email_normalized)
                  IS DISTINCT FROM (n.status, n.source, n.created_at, n.user_id, n.email_normalized))
        SELECT DISTINCT d FROM (
            SELECT (m.was AT TIME ZONE 'UTC')::date FROM moved m
            UNION ALL SELECT (m.now_at AT TIME ZONE 'UTC')::date FROM moved m
            UNION ALL SELECT (a.created_at AT TIME ZONE 'UTC')::date
                FROM lead_activities a JOIN moved m ON a.lead_id = m.id
                WHERE m.resourced AND a.activity_type = 'inquiry'
        ) AS t(d);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO report_stale (day)
        SELECT DISTINCT (o.created_at AT TIME ZONE 'UTC')::date FROM old_rows o;
    ELSE
        PERFORM report_stale_all();
    END IF;
    RETURN NULL;
END $$;

-- lead_activities: the day of a contact form (an inquiry)
CREATE OR REPLACE FUNCTION report_stale_activities() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO report_stale (day)
        SELECT DISTINCT (n.created_at AT TIME ZONE 'UTC')::date FROM new_rows n
        WHERE n.activity_type = 'inquiry';
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO report_stale (day)
        SELECT DISTINCT d FROM (
            SELECT (o.created_at AT TIME ZONE 'UTC')::date, (n.created_at AT TIME ZONE 'UTC')::date
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE 'inquiry' IN (o.activity_type, n.activity_type)
              AND (o.activity_type, o.created_at, o.lead_id)
                  IS DISTINCT FROM (n.activity_type, n.created_at, n.lead_id)
        ) AS c(was, now_day)
        CROSS JOIN LATERAL (VALUES (c.was), (c.now_day)) AS t(d);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO report_stale (day)
        SELECT DISTINCT (o.created_at AT TIME ZONE 'UTC')::date FROM old_rows o
        WHERE o.activity_type = 'inquiry';
    ELSE
        PERFORM report_stale_all();
    END IF;
    RETURN NULL;
END $$;

-- service_bookings: the day a booking was made, the day of a completed meeting, and the leads
-- of the booking's person (a first booking, or the last one removed, changes "booked")
CREATE OR REPLACE FUNCTION report_stale_bookings_of(p_days date[], p_people uuid[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    INSERT INTO report_stale (day)
    SELECT DISTINCT d FROM (
        SELECT unnest(p_days)
        UNION ALL SELECT (l.created_at AT TIME ZONE 'UTC')::date
            FROM leads l WHERE l.user_id = ANY (p_people)
        UNION ALL SELECT (l.created_at AT TIME ZONE 'UTC')::date
            FROM users u JOIN leads l ON l.email_normalized = lower(u.email) AND l.user_id IS NULL
            WHERE u.id = ANY (p_people)
    ) AS t(d)
    WHERE d IS NOT NULL
$$;

CREATE OR REPLACE FUNCTION report_stale_bookings() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM report_stale_bookings_of(
            array(SELECT (n.created_at AT TIME ZONE 'UTC')::date FROM new_rows n
                  UNION SELECT (n.scheduled_at AT TIME ZONE 'UTC')::date FROM new_rows n
                  WHERE n.status = 'completed'),
            array(SELECT DISTINCT n.user_id FROM new_rows n WHERE n.user_id IS NOT NULL));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM report_stale_bookings_of(
            array(SELECT d FROM old_rows o JOIN new_rows n ON n.id = o.id
                  CROSS JOIN LATERAL (VALUES
                      ((o.created_at AT TIME ZONE 'UTC')::date),
                      ((n.created_at AT TIME ZONE 'UTC')::date),
                      (CASE WHEN o.status = 'completed'
                            THEN (o.scheduled_at AT TIME ZONE 'UTC')::date END),
                      (CASE WHEN n.status = 'completed'
                            THEN (n.scheduled_at AT TIME ZONE 'UTC')::date END)) AS t(d)
                  WHERE (o.status, o.scheduled_at, o.duration_minutes, o.service_id,
                         o.user_id, o.created_at)
                        IS DISTINCT FROM (n.status, n.scheduled_at, n.duration_minutes,
                                          n.service_id, n.user_id, n.created_at)),
            array(SELECT p FROM old_rows o JOIN new_rows n ON n.id = o.id
                  CROSS JOIN LATERAL (VALUES (o.user_id), (n.user_id)) AS t(p)
                  WHERE o.user_id IS DISTINCT FROM n.user_id AND p IS NOT NULL));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM report_stale_bookings_of(
            array(SELECT (o.created_at AT TIME ZONE 'UTC')::date FROM old_rows o
                  UNION SELECT (o.scheduled_at AT TIME ZONE 'UTC')::date FROM old_rows o
                  WHERE o.status = 'completed'),
            array(SELECT DISTINCT o.user_id FROM old_rows o WHERE o.user_id IS NOT NULL));
    ELSE
        PERFORM report_stale_all();
    END IF;
    RETURN NULL;
END $$;

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

-- the days each write touched (report_stale_*: statement triggers, from the transition tables)
CREATE TRIGGER users_report_insert
    AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_users();
CREATE TRIGGER users_report_update
    AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_users();
CREATE TRIGGER users_report_delete
    AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_users();
CREATE TRIGGER users_report_truncate
    AFTER TRUNCATE ON users
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_users();
CREATE TRIGGER leads_report_insert
    AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_leads();
CREATE TRIGGER leads_report_update
    AFTER UPDATE ON leads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_leads();
CREATE TRIGGER leads_report_delete
    AFTER DELETE ON leads
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_leads();
CREATE TRIGGER leads_report_truncate
    AFTER TRUNCATE ON leads
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_leads();
CREATE TRIGGER lead_activities_report_insert
    AFTER INSERT ON lead_activities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_activities();
CREATE TRIGGER lead_activities_report_update
    AFTER UPDATE ON lead_activities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_activities();
CREATE TRIGGER lead_activities_report_delete
    AFTER DELETE ON lead_activities
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_activities();
CREATE TRIGGER lead_activities_report_truncate
    AFTER TRUNCATE ON lead_activities
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_activities();
CREATE TRIGGER service_bookings_report_insert
    AFTER INSERT ON service_bookings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_bookings();
CREATE TRIGGER service_bookings_report_update
    AFTER UPDATE ON service_bookings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_bookings();
CREATE TRIGGER service_bookings_report_delete
    AFTER DELETE ON service_bookings
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_bookings();
CREATE TRIGGER service_bookings_report_truncate
    AFTER TRUNCATE ON service_bookings
    FOR EACH STATEMENT
    EXECUTE FUNCTION report_stale_bookings();

-- the business roll-ups: staff read them; only report_refresh() writes them
ALTER TABLE report_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_daily FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON report_daily TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON report_daily FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT ON report_daily TO dreamer_app;

ALTER TABLE report_daily_leads ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_daily_leads FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON report_daily_leads TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON report_daily_leads FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT ON report_daily_leads TO dreamer_app;

ALTER TABLE report_daily_revenue ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_daily_revenue FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON report_daily_revenue TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON report_daily_revenue FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT ON report_daily_revenue TO dreamer_app;

-- the stale days: the owner only (written by the triggers, emptied by report_refresh())
ALTER TABLE report_stale ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_stale FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON report_stale TO dreamer_owner
    USING (true)
    WITH CHECK (true);

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
