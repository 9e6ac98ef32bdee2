-- leads.sql — Leads from the contact form: capture, scoring, the automatic timeline, statistics.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- The score of a lead and why: [{rule, points}] for every rule that applies.
CREATE OR REPLACE FUNCTION lead_score_details(l leads, p_now timestamptz) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('rule', r.name, 'ruleId', r.id,
                                                 'points', r.points) ORDER BY r.sort_order), '[]')
    FROM lead_scoring_rules r
    WHERE r.is_active AND CASE r.kind
        WHEN 'field_present' THEN nullif(btrim(to_jsonb(l) ->> r.field), '') IS NOT NULL
        WHEN 'field_equals' THEN lower(to_jsonb(l) ->> r.field) = lower(r.value)
        WHEN 'inactivity' THEN l.last_activity_at < p_now - make_interval(days => r.days)
        WHEN 'event' THEN CASE r.event
            WHEN 'registered' THEN l.user_id IS NOT NULL
            WHEN 'booked_consultation' THEN EXISTS (
                SELECT 1 FROM service_bookings b WHERE b.user_id = l.user_id
                  AND l.user_id IS NOT NULL)
            WHEN 'newsletter_subscribed' THEN EXISTS (
                SELECT 1 FROM newsletter_subscriptions n
                WHERE lower(n.email) = l.email_normalized AND n.is_active)
            ELSE false END
        ELSE false END
$$;

CREATE OR REPLACE FUNCTION leads_before_write() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status THEN
        IF NEW.status = 'converted' THEN
            NEW.conversion_date := coalesce(NEW.conversion_date, now());
        END IF;
        IF OLD.status = 'new' AND NEW.first_contacted_at IS NULL THEN
            NEW.first_contacted_at := now();
        END IF;
    END IF;
    NEW.score_details := lead_score_details(NEW, now());
    NEW.score := coalesce((SELECT sum((d ->> 'points')::integer)
                           FROM jsonb_array_elements(NEW.score_details) d), 0);
    RETURN NEW;
END $$;

-- The timeline writes itself: who changed what, from what to what.
CREATE OR REPLACE FUNCTION leads_timeline() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    change record;
BEGIN
    FOR change IN
        SELECT * FROM (VALUES
            ('status_changed', OLD.status::text, NEW.status::text),
            ('assigned', OLD.assigned_to::text, NEW.assigned_to::text),
            ('tags_changed', OLD.tags::text, NEW.tags::text),
            ('notes_changed', NULL, CASE WHEN NEW.notes IS DISTINCT FROM OLD.notes
                                         THEN 'changed' END),
            ('lost_reason', OLD.lost_reason, NEW.lost_reason)) AS c(kind, old_value, new_value)
        WHERE c.old_value IS DISTINCT FROM c.new_value
    LOOP
        INSERT INTO lead_activities (lead_id, user_id, activity_type, description, metadata)
        VALUES (NEW.id, app_user_id(), change.kind,
                format('%s: %s -> %s', change.kind, coalesce(change.old_value, '-'),
                       coalesce(change.new_value, '-')),
                jsonb_build_object('old', change.old_value, 'new', change.new_value,
                                   'automatic', true));
    END LOOP;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION lead_activity_touch() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    UPDATE leads SET last_activity_at = NEW.created_at
    WHERE id = NEW.lead_id AND last_activity_at < NEW.created_at;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION recompute_lead_scores() RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    changed integer;
BEGIN
    -- the BEFORE trigger recomputes; only rows whose score moves are written
    UPDATE leads l SET score_details = d.details
    FROM (SELECT id, lead_score_details(x, now()) AS details FROM leads x) d
    WHERE d.id = l.id AND d.details IS DISTINCT FROM l.score_details;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END $$;

CREATE OR REPLACE FUNCTION lead_rules_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = procrastinate, pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM procrastinate.procrastinate_jobs
                   WHERE queueing_lock = 'recompute_lead_scores' AND status = 'todo') THEN
        PERFORM procrastinate.procrastinate_defer_jobs_v1(ARRAY[
            ROW('maintenance', 'recompute_lead_scores', 0, NULL, 'recompute_lead_scores',
                '{}'::jsonb, NULL)::procrastinate.procrastinate_job_to_defer_v1]);
    END IF;
    RETURN NULL;
EXCEPTION WHEN unique_violation THEN
    RETURN NULL;  -- another transaction queued it a moment ago
END $$;

-- The contact form, for anyone. Returns the lead, whether it is new, and its assignee.
CREATE OR REPLACE FUNCTION capture_lead(p jsonb, p_notify boolean DEFAULT true)
RETURNS TABLE (lead_id uuid, created boolean, assignee uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    normalized text := lower(btrim(p ->> 'email'));
    existing uuid;
    new_id uuid;
    owner uuid;
    staff record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('capture_lead:' || normalized));
    SELECT l.id INTO existing FROM leads l
    WHERE l.email_normalized = normalized AND l.status NOT IN ('converted', 'lost')
    ORDER BY l.created_at DESC LIMIT 1;
    IF existing IS NOT NULL THEN
        INSERT INTO lead_activities (lead_id, activity_type, description, metadata)
        VALUES (existing, 'inquiry', p ->> 'message',
                jsonb_strip_nulls(jsonb_build_object('inquiry_type', p ->> 'inquiry_type',
                                                     'source', p -> 'source_details',
                                                     'repeat', true)));
        RETURN QUERY SELECT existing, false, (SELECT l.assigned_to FROM leads l
                                               WHERE l.id = existing);
        RETURN;
    END IF;
    -- round robin over the staff members who accept leads, in a fixed order; the turn comes
    -- from a sequence, so concurrent forms never wait for each other
    SELECT u.id INTO owner FROM users u
    WHERE u.accepts_leads AND u.status = 'active' AND u.role IN ('admin', 'super_admin')
    ORDER BY u.created_at, u.id
    OFFSET (SELECT nextval('lead_assignment_seq') % greatest(count(*), 1) FROM users u
            WHERE u.accepts_leads AND u.status = 'active'
              AND u.role IN ('admin', 'super_admin'))
    LIMIT 1;
    INSERT INTO leads (email, first_name, last_name, company, phone, message, inquiry_type,
                       source, source_details, assigned_to, user_id, tags)
    VALUES (btrim(p ->> 'email'), p ->> 'first_name', p ->> 'last_name', p ->> 'company',
            p ->> 'phone', p ->> 'message', p ->> 'inquiry_type',
            coalesce((p ->> 'source')::lead_source, 'website'),
            coalesce(p -> 'source_details', '{}'), owner,
            (SELECT u.id FROM users u WHERE lower(u.email) = normalized),
            coalesce(p -> 'tags', '[]'))
    RETURNING id INTO new_id;
    INSERT INTO lead_activities (lead_id, activity_type, description, metadata)
    VALUES (new_id, 'inquiry', p ->> 'message',
            jsonb_strip_nulls(jsonb_build_object('inquiry_type', p ->> 'inquiry_type',
                                                 'source', p -> 'source_details')));
    IF p_notify THEN
        FOR staff IN
            SELECT u.id, u.email FROM users u
            WHERE u.status = 'active' AND u.role IN ('admin', 'super_admin')
              AND (owner IS NULL OR u.id = owner)
        LOOP
            PERFORM enqueue_mail('lead_new', new_id, staff.id);
        END LOOP;
    END IF;
    RETURN QUERY SELECT new_id, true, owner;
END $$;

GRANT EXECUTE ON FUNCTION capture_lead(jsonb,boolean) TO dreamer_app;

-- Pipeline statistics for staff, read from the roll-ups the triggers below keep in the same
-- transaction as the leads: the cost is that of a few hundred small rows at any table size.
-- The median time to first contact comes from a histogram of 1 % wide buckets (its midpoint:
-- within 0.5 % of the exact median).
CREATE OR REPLACE FUNCTION lead_contact_bucket(seconds double precision) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT floor(ln(1 + greatest(seconds, 0) / 60) / ln(1.01))::integer
$$;

CREATE OR REPLACE FUNCTION lead_stats() RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    median_bucket integer;
BEGIN
    IF NOT app_is_staff() THEN
        RAISE EXCEPTION 'lead statistics are for staff' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT h.bucket INTO median_bucket FROM (
        SELECT bucket, sum(n) OVER (ORDER BY bucket) AS upto, sum(n) OVER () AS total
        FROM lead_contact_rollup WHERE n > 0) h
    WHERE h.upto * 2 >= h.total ORDER BY h.bucket LIMIT 1;
    RETURN jsonb_build_object(
        'byStatus', (SELECT coalesce(jsonb_object_agg(status, n), '{}')
                     FROM (SELECT status, sum(n) AS n FROM lead_rollup
                           GROUP BY status HAVING sum(n) > 0) s),
        'bySource', (SELECT coalesce(jsonb_object_agg(source, jsonb_build_object(
                         'total', total, 'converted', converted,
                         'conversionRate', round(converted::numeric / total, 4))), '{}')
                     FROM (SELECT source, sum(n) AS total,
                                  coalesce(sum(n) FILTER (WHERE status = 'converted'), 0)
                                      AS converted
                           FROM lead_rollup GROUP BY source HAVING sum(n) > 0) s),
        'medianHoursToFirstContact',
            round((60 * (power(1.01, median_bucket + 0.5) - 1) / 3600)::numeric, 2));
END $$;

-- The roll-ups follow every insert, update and delete of leads, one statement at a time, from
-- its transition tables: one function per event, so each runs static SQL with a cached plan,
-- and a statement that touched no row (or moved neither status, source nor the first contact)
-- writes nothing.
CREATE OR REPLACE FUNCTION lead_rollup_apply(delta jsonb) RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH d AS (
        SELECT x.status, x.source, x.s, x.d
        FROM jsonb_to_recordset(delta) AS x(status lead_status, source lead_source,
                                            s double precision, d integer)),
    counts AS (
        INSERT INTO lead_rollup AS r (status, source, shard, n)
        SELECT status, source, pg_backend_pid() % 16, sum(d) FROM d
        GROUP BY status, source HAVING sum(d) <> 0
        ON CONFLICT (status, source, shard) DO UPDATE SET n = r.n + excluded.n)
    INSERT INTO lead_contact_rollup AS r (bucket, n)
    SELECT lead_contact_bucket(s), sum(d) FROM d WHERE s IS NOT NULL
    GROUP BY 1 HAVING sum(d) <> 0
    ON CONFLICT (bucket) DO UPDATE SET n = r.n + excluded.n
$$;

CREATE OR REPLACE FUNCTION lead_rollup_insert() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM lead_rollup_apply(jsonb_agg(jsonb_build_object(
        'status', status, 'source', source, 's', first_contact_seconds, 'd', n)))
    FROM (SELECT status, source, first_contact_seconds, count(*) AS n FROM new_rows
          GROUP BY 1, 2, 3) g
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION lead_rollup_update() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM lead_rollup_apply(jsonb_agg(jsonb_build_object(
        'status', status, 'source', source, 's', s, 'd', n)))
    FROM (SELECT status, source, s, sum(d) AS n FROM (
              SELECT n.status, n.source, n.first_contact_seconds AS s, 1 AS d
              FROM new_rows n
              UNION ALL
              SELECT o.status, o.source, o.first_contact_seconds, -1 FROM old_rows o) c
          GROUP BY 1, 2, 3 HAVING sum(d) <> 0) g
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION lead_rollup_delete() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM lead_rollup;
        DELETE FROM lead_contact_rollup;
        RETURN NULL;
    END IF;
    PERFORM lead_rollup_apply(jsonb_agg(jsonb_build_object(
        'status', status, 'source', source, 's', first_contact_seconds, 'd', -n)))
    FROM (SELECT status, source, first_contact_seconds, count(*) AS n FROM old_rows
          GROUP BY 1, 2, 3) g
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

GRANT EXECUTE ON FUNCTION lead_stats() TO dreamer_app;

-- A page of the staff's pipeline (dreamer.leads.repository.page: the list, its filters and
-- search, the CSV export): the ids of the leads matching p, in the order asked, after the
-- keyset position, at most p->>'limit'. The caller then reads those rows under RLS.
-- It runs as the owner because under the app role's app_select policy, which reads a column,
-- PostgreSQL may evaluate no non-leakproof operator before the policy: enum equality (status,
-- source) and full-text @@ were never index conditions, and a filtered page walked an index
-- from its start testing every row (4-5 s at a million leads). Staff rights are checked
-- first; the filters are values bound to the statement (EXECUTE ... USING), never SQL text,
-- and the sort column comes from a fixed list.
-- Two plan details: the columns a filter fixes lead the ORDER BY of a date-ordered page (they
-- change no order, but PostgreSQL does not drop an enum fixed by = from the order, so without
-- them it cannot read (source, status, created_at, id) in order); and a search first asks the
-- GIN index for at most 501 matches, because PostgreSQL estimates a term it has no statistics
-- for at 0.5 % of the rows and walks the date index testing every lead to find none: a rare
-- term's page is those rows, a common one's the date walk, which finds a page quickly.
CREATE OR REPLACE FUNCTION staff_lead_page(p jsonb) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    probe constant integer := 500;
    sort_column text := CASE p ->> 'sort' WHEN 'created_at' THEN 'created_at'
                            WHEN 'score' THEN 'score'
                            WHEN 'last_activity_at' THEN 'last_activity_at' END;
    descending boolean := coalesce((p ->> 'descending')::boolean, true);
    direction text := CASE WHEN descending THEN 'DESC' ELSE 'ASC' END;
    fixed_direction text := CASE WHEN descending THEN 'ASC' ELSE 'DESC' END;
    conditions text[] := ARRAY['true'];
    order_prefix text := '';
    matches uuid[];
    filter record;
BEGIN
    IF NOT app_is_staff() THEN
        RAISE EXCEPTION 'the pipeline is for staff' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF sort_column IS NULL THEN
        RAISE EXCEPTION 'a page is sorted by created_at, score or last_activity_at'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- each filter given in p adds its condition; the value is read from $1 when it runs
    FOR filter IN
        SELECT f.name, f.condition FROM (VALUES
            ('status', '(l.status = ($1 ->> ''status'')::lead_status)'),
            ('source', '(l.source = ($1 ->> ''source'')::lead_source)'),
            ('assigned_to', '(l.assigned_to = ($1 ->> ''assigned_to'')::uuid)'),
            ('tag', '(l.tags @> jsonb_build_array($1 ->> ''tag''))'),
            ('min_score', '(l.score >= ($1 ->> ''min_score'')::integer)'),
            ('max_score', '(l.score <= ($1 ->> ''max_score'')::integer)'),
            ('created_from', '(l.created_at >= ($1 ->> ''created_from'')::timestamptz)'),
            ('created_to', '(l.created_at < ($1 ->> ''created_to'')::timestamptz)')
        ) AS f(name, condition)
        WHERE p ? f.name
    LOOP
        conditions := array_append(conditions, filter.condition);
    END LOOP;
    IF p ? 'search' THEN
        conditions := array_append(conditions,
            '(l.search @@ websearch_to_tsquery(''simple''::regconfig, $1 ->> ''search''))');
        EXECUTE format('SELECT array_agg(id) FROM (SELECT l.id FROM leads l WHERE %s LIMIT %s) s',
                       array_to_string(conditions, ' AND '), probe + 1)
            INTO matches USING p;
        IF coalesce(cardinality(matches), 0) <= probe THEN
            conditions := array_append(conditions, '(l.id = ANY ($2))');
        END IF;
    END IF;
    IF p ? 'after_id' THEN
        conditions := array_append(conditions, format(
            '((l.%1$I, l.id) %2$s (($1 ->> ''after_value'')::%3$s, ($1 ->> ''after_id'')::uuid))',
            sort_column, CASE WHEN descending THEN '<' ELSE '>' END,
            CASE WHEN sort_column = 'score' THEN 'integer' ELSE 'timestamptz' END));
    END IF;
    IF sort_column = 'created_at' AND p ? 'status' THEN
        order_prefix := CASE WHEN p ? 'source' THEN format('l.source %1$s, l.status %1$s, ', fixed_direction)
                        ELSE format('l.status %s, ', fixed_direction) END;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT l.id FROM leads l WHERE %1$s ORDER BY %2$s l.%3$I %4$s, l.id %4$s'
        ' LIMIT least(greatest(($1 ->> ''limit'')::integer, 1), 5000)',
        array_to_string(conditions, ' AND '), order_prefix, sort_column, direction)
        USING p, matches;
END $$;

GRANT EXECUTE ON FUNCTION staff_lead_page(jsonb) TO dreamer_app;

-- leads
ALTER TABLE leads ENABLE ROW LEVEL SECURITY;
ALTER TABLE leads FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON leads TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON leads FOR SELECT TO dreamer_app
    USING ((user_id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
-- The public's leads arrive through capture_lead() (spam checks, merging); only staff insert rows.
CREATE POLICY app_insert ON leads FOR INSERT TO dreamer_app
    WITH CHECK ((SELECT app_is_staff()));
CREATE POLICY app_update ON leads FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_delete ON leads FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT, INSERT, UPDATE, DELETE ON leads TO dreamer_app;

CREATE TRIGGER leads_audit
    AFTER INSERT OR DELETE OR UPDATE ON leads
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER leads_before_write
    BEFORE INSERT OR UPDATE ON leads
    FOR EACH ROW
    EXECUTE FUNCTION leads_before_write();
CREATE TRIGGER leads_set_updated_at
    BEFORE UPDATE ON leads
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER leads_timeline
    AFTER UPDATE OF status, assigned_to, tags, notes, lost_reason ON leads
    FOR EACH ROW
    EXECUTE FUNCTION leads_timeline();

CREATE TRIGGER leads_rollup_insert
    AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION lead_rollup_insert();
CREATE TRIGGER leads_rollup_update
    AFTER UPDATE ON leads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION lead_rollup_update();
CREATE TRIGGER leads_rollup_delete
    AFTER DELETE ON leads
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION lead_rollup_delete();
CREATE TRIGGER leads_rollup_truncate
    AFTER TRUNCATE ON leads
    FOR EACH STATEMENT
    EXECUTE FUNCTION lead_rollup_delete();

-- lead_rollup, lead_contact_rollup: written by the lead_rollup_* triggers, read by lead_stats()
ALTER TABLE lead_rollup ENABLE ROW LEVEL SECURITY;
ALTER TABLE lead_rollup FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON lead_rollup TO dreamer_owner
    USING (true)
    WITH CHECK (true);
ALTER TABLE lead_contact_rollup ENABLE ROW LEVEL SECURITY;
ALTER TABLE lead_contact_rollup FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON lead_contact_rollup TO dreamer_owner
    USING (true)
    WITH CHECK (true);

-- lead_activities
ALTER TABLE lead_activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE lead_activities FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON lead_activities TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON lead_activities FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_insert ON lead_activities FOR INSERT TO dreamer_app
    WITH CHECK ((SELECT app_is_staff()));
CREATE POLICY app_update ON lead_activities FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_delete ON lead_activities FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT, INSERT, UPDATE, DELETE ON lead_activities TO dreamer_app;
CREATE TRIGGER lead_activities_audit
    AFTER INSERT OR DELETE OR UPDATE ON lead_activities
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER lead_activities_touch
    AFTER INSERT ON lead_activities
    FOR EACH ROW
    EXECUTE FUNCTION lead_activity_touch();

-- lead_scoring_rules
ALTER TABLE lead_scoring_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE lead_scoring_rules FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON lead_scoring_rules TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON lead_scoring_rules FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_insert ON lead_scoring_rules FOR INSERT TO dreamer_app
    WITH CHECK ((SELECT app_is_staff()));
CREATE POLICY app_update ON lead_scoring_rules FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_delete ON lead_scoring_rules FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT, INSERT, UPDATE, DELETE ON lead_scoring_rules TO dreamer_app;
CREATE TRIGGER lead_scoring_rules_audit
    AFTER INSERT OR DELETE OR UPDATE ON lead_scoring_rules
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER lead_scoring_rules_changed
    AFTER INSERT OR DELETE OR UPDATE ON lead_scoring_rules
    FOR EACH STATEMENT
    EXECUTE FUNCTION lead_rules_changed();
CREATE TRIGGER lead_scoring_rules_set_updated_at
    BEFORE UPDATE ON lead_scoring_rules
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
