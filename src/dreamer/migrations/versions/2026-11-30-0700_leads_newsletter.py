"""Leads and newsletter: capture, search, scoring rules, automatic timeline, double opt-in.

Revision ID: 0006_leads_newsletter
Revises: 0005_bookings
Create Date: 2026-11-30 07:00

The contact form is answered for anonymous visitors, who may not read leads (RLS), so capture
is one SECURITY DEFINER function: it merges a repeat inquiry into the open lead of the same
address, links the lead to a registered user, assigns it round-robin among staff who accept
leads, records the activity and queues the staff notification, all in the caller's
transaction. Scores come from ``lead_scoring_rules`` and are kept with their explanation by a
trigger; changing the rules re-scores every lead in a background job. Every change of a lead's
status, owner or tags is written to its timeline by a trigger, whoever made it.

Newsletter: addresses that unsubscribed (or were erased) stay in ``newsletter_suppressions`` as
a hash, so an import cannot re-add them; only the person's own double opt-in lifts it.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0006_leads_newsletter"
down_revision = "0005_bookings"
branch_labels = None
depends_on = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"

TABLES = """
ALTER TABLE users ADD COLUMN accepts_leads boolean NOT NULL DEFAULT false;

ALTER TABLE leads
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple',
        coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || email || ' '
        || coalesce(company, '') || ' ' || coalesce(message, ''))) STORED,
    ADD COLUMN score_details jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(score_details) = 'array'),
    ADD COLUMN last_activity_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN first_contacted_at timestamptz,
    ADD COLUMN notes text CHECK (length(notes) <= 20000);
CREATE INDEX idx_leads_search ON leads USING gin (search);
CREATE INDEX idx_leads_tags ON leads USING gin (tags jsonb_path_ops);
-- (source, status) answers the statistics from the index alone; (score, id) the score sort
CREATE INDEX idx_leads_source ON leads (source, status);
CREATE INDEX idx_leads_score ON leads (score, id);
ALTER TABLE leads ADD COLUMN first_contact_seconds double precision
    GENERATED ALWAYS AS (extract(epoch FROM first_contacted_at - created_at)) STORED;
CREATE INDEX idx_leads_first_contact_seconds ON leads (first_contact_seconds)
    WHERE first_contact_seconds IS NOT NULL;
CREATE INDEX idx_leads_open_email ON leads (email_normalized, created_at DESC)
    WHERE status NOT IN ('converted', 'lost');

CREATE TABLE lead_scoring_rules (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind text NOT NULL CHECK (kind IN ('field_present', 'field_equals', 'event', 'inactivity')),
    field text CHECK (field IN ('company', 'phone', 'message', 'inquiry_type', 'source',
                                'first_name', 'last_name')),
    value text CHECK (length(value) <= 200),
    event text CHECK (event IN ('booked_consultation', 'newsletter_subscribed', 'registered')),
    days integer CHECK (days BETWEEN 1 AND 3650),
    points integer NOT NULL CHECK (points BETWEEN -1000 AND 1000),
    is_active boolean NOT NULL DEFAULT true,
    sort_order integer NOT NULL DEFAULT 0,
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT lead_scoring_rules_shape CHECK (
        (kind = 'field_present' AND field IS NOT NULL)
        OR (kind = 'field_equals' AND field IS NOT NULL AND value IS NOT NULL)
        OR (kind = 'event' AND event IS NOT NULL)
        OR (kind = 'inactivity' AND days IS NOT NULL))
);
INSERT INTO lead_scoring_rules (name, kind, field, value, event, days, points, sort_order) VALUES
    ('Company given', 'field_present', 'company', NULL, NULL, NULL, 10, 1),
    ('Phone given', 'field_present', 'phone', NULL, NULL, NULL, 5, 2),
    ('Implementation inquiry', 'field_equals', 'inquiry_type', 'implementation', NULL, NULL, 20, 3),
    ('Booked a consultation', 'event', NULL, NULL, 'booked_consultation', NULL, 30, 4),
    ('Newsletter subscriber', 'event', NULL, NULL, 'newsletter_subscribed', NULL, 5, 5),
    ('No activity for 30 days', 'inactivity', NULL, NULL, NULL, 30, -10, 6);

ALTER TABLE newsletter_subscriptions ADD COLUMN confirmation_expires timestamptz;
CREATE INDEX idx_newsletter_subscriptions_tags ON newsletter_subscriptions
    USING gin (tags jsonb_path_ops);
CREATE INDEX idx_newsletter_subscriptions_active ON newsletter_subscriptions (is_active);

CREATE TABLE newsletter_suppressions (
    email_hash text PRIMARY KEY,
    reason text NOT NULL CHECK (reason IN ('unsubscribed', 'erased', 'bounced', 'complaint')),
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

FUNCTIONS = f"""
CREATE FUNCTION email_hash(p_email text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN encode(sha256(convert_to(lower(btrim(p_email)), 'UTF8')), 'hex');

-- The score of a lead and why: [{{rule, points}}] for every rule that applies.
CREATE FUNCTION lead_score_details(l leads, p_now timestamptz) RETURNS jsonb
LANGUAGE sql STABLE {DEFINER} AS $$
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

CREATE FUNCTION leads_before_write() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
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
CREATE TRIGGER leads_before_write BEFORE INSERT OR UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION leads_before_write();

-- The timeline writes itself: who changed what, from what to what.
CREATE FUNCTION leads_timeline() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
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
CREATE TRIGGER leads_timeline AFTER UPDATE OF status, assigned_to, tags, notes, lost_reason
    ON leads FOR EACH ROW EXECUTE FUNCTION leads_timeline();

CREATE FUNCTION lead_activity_touch() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    UPDATE leads SET last_activity_at = NEW.created_at
    WHERE id = NEW.lead_id AND last_activity_at < NEW.created_at;
    RETURN NULL;
END $$;
CREATE TRIGGER lead_activities_touch AFTER INSERT ON lead_activities
    FOR EACH ROW EXECUTE FUNCTION lead_activity_touch();

CREATE FUNCTION recompute_lead_scores() RETURNS integer LANGUAGE plpgsql {DEFINER} AS $$
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

CREATE FUNCTION lead_rules_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = procrastinate, pg_catalog, public AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM procrastinate.procrastinate_jobs
                   WHERE queueing_lock = 'recompute_lead_scores' AND status = 'todo') THEN
        PERFORM procrastinate.procrastinate_defer_jobs_v1(ARRAY[
            ROW('maintenance', 'recompute_lead_scores', 0, NULL, 'recompute_lead_scores',
                '{{}}'::jsonb, NULL)::procrastinate.procrastinate_job_to_defer_v1]);
    END IF;
    RETURN NULL;
EXCEPTION WHEN unique_violation THEN
    RETURN NULL;  -- another transaction queued it a moment ago
END $$;
CREATE TRIGGER lead_scoring_rules_changed AFTER INSERT OR UPDATE OR DELETE
    ON lead_scoring_rules FOR EACH STATEMENT EXECUTE FUNCTION lead_rules_changed();

-- The contact form, for anyone. Returns the lead, whether it is new, and its assignee.
CREATE FUNCTION capture_lead(p jsonb, p_notify boolean DEFAULT true)
RETURNS TABLE (lead_id uuid, created boolean, assignee uuid)
LANGUAGE plpgsql {DEFINER} AS $$
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
    -- round robin: the staff member who accepts leads and was assigned one least recently
    PERFORM pg_advisory_xact_lock(hashtext('capture_lead:assign'));
    SELECT u.id INTO owner FROM users u
    WHERE u.accepts_leads AND u.status = 'active' AND u.role IN ('admin', 'super_admin')
    ORDER BY (SELECT max(l.created_at) FROM leads l WHERE l.assigned_to = u.id) NULLS FIRST,
             u.created_at, u.id
    LIMIT 1;
    INSERT INTO leads (email, first_name, last_name, company, phone, message, inquiry_type,
                       source, source_details, assigned_to, user_id, tags)
    VALUES (btrim(p ->> 'email'), p ->> 'first_name', p ->> 'last_name', p ->> 'company',
            p ->> 'phone', p ->> 'message', p ->> 'inquiry_type',
            coalesce((p ->> 'source')::lead_source, 'website'),
            coalesce(p -> 'source_details', '{{}}'), owner,
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
            PERFORM enqueue_mail('lead_new', staff.id, staff.email,
                                 jsonb_build_object('lead_id', new_id));
        END LOOP;
    END IF;
    RETURN QUERY SELECT new_id, true, owner;
END $$;

-- Newsletter: subscribe (never reveals or downgrades state), confirm, unsubscribe.
CREATE FUNCTION newsletter_subscribe(p_email text, p_tags jsonb, p_consent jsonb,
                                     p_user_id uuid, p_unsubscribe_hash text)
RETURNS TABLE (subscription_id uuid, needs_confirmation boolean)
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    s newsletter_subscriptions%ROWTYPE;
BEGIN
    SELECT * INTO s FROM newsletter_subscriptions
    WHERE lower(email) = lower(btrim(p_email)) FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO newsletter_subscriptions (email, user_id, is_active, tags, consent,
                                              unsubscribe_token)
        VALUES (btrim(p_email), p_user_id, false, coalesce(p_tags, '[]'),
                jsonb_build_object('history', jsonb_build_array(p_consent)),
                p_unsubscribe_hash)
        RETURNING * INTO s;
        RETURN QUERY SELECT s.id, true;
        RETURN;
    END IF;
    UPDATE newsletter_subscriptions n SET
        tags = (SELECT coalesce(jsonb_agg(DISTINCT t), '[]')
                FROM jsonb_array_elements(n.tags || coalesce(p_tags, '[]')) t),
        consent = jsonb_set(n.consent, '{{history}}',
                            coalesce(n.consent -> 'history', '[]') || jsonb_build_array(p_consent)),
        user_id = coalesce(n.user_id, p_user_id),
        unsubscribe_token = coalesce(n.unsubscribe_token, p_unsubscribe_hash)
    WHERE n.id = s.id;
    -- an active subscription stays active; anything else needs the double opt-in again
    RETURN QUERY SELECT s.id, NOT s.is_active;
END $$;

CREATE FUNCTION newsletter_confirm(p_token_hash text, p_now timestamptz, p_consent jsonb)
RETURNS TABLE (subscription_id uuid, email text) LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    target newsletter_subscriptions%ROWTYPE;
BEGIN
    UPDATE newsletter_subscriptions n SET
        is_active = true, confirmed_at = p_now, unsubscribed_at = NULL,
        confirmation_token = NULL, confirmation_expires = NULL,
        consent = jsonb_set(n.consent, '{{history}}',
                            coalesce(n.consent -> 'history', '[]') || jsonb_build_array(p_consent))
    WHERE confirmation_token = p_token_hash AND confirmation_expires > p_now
    RETURNING * INTO target;
    IF target.id IS NULL THEN
        RETURN;
    END IF;
    -- the person's own confirmed opt-in is the one thing that lifts a suppression
    DELETE FROM newsletter_suppressions WHERE email_hash = email_hash(target.email);
    RETURN QUERY SELECT target.id, target.email;
END $$;

CREATE FUNCTION newsletter_unsubscribe(p_token_hash text, p_now timestamptz)
RETURNS uuid LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    target newsletter_subscriptions%ROWTYPE;
BEGIN
    UPDATE newsletter_subscriptions SET
        is_active = false, unsubscribed_at = coalesce(unsubscribed_at, p_now),
        confirmation_token = NULL, confirmation_expires = NULL
    WHERE unsubscribe_token = p_token_hash
    RETURNING * INTO target;
    IF target.id IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO newsletter_suppressions (email_hash, reason)
    VALUES (email_hash(target.email), 'unsubscribed') ON CONFLICT DO NOTHING;
    RETURN target.id;
END $$;

-- Newsletter events of a lead's address show up on the lead's timeline (and its score).
CREATE FUNCTION newsletter_lead_activity() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    what text;
BEGIN
    IF NEW.is_active AND (TG_OP = 'INSERT' OR NOT OLD.is_active) THEN
        what := 'newsletter_subscribed';
    ELSIF NOT NEW.is_active AND TG_OP = 'UPDATE' AND OLD.is_active THEN
        what := 'newsletter_unsubscribed';
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO lead_activities (lead_id, activity_type, description, metadata)
    SELECT l.id, what, replace(what, '_', ' '), jsonb_build_object('automatic', true)
    FROM leads l WHERE l.email_normalized = lower(btrim(NEW.email));
    UPDATE leads SET score_details = '[]' WHERE email_normalized = lower(btrim(NEW.email));
    RETURN NULL;
END $$;
CREATE TRIGGER newsletter_subscriptions_lead_activity
    AFTER INSERT OR UPDATE OF is_active ON newsletter_subscriptions
    FOR EACH ROW EXECUTE FUNCTION newsletter_lead_activity();

-- Pipeline statistics for staff. Row policies would force a heap visit per row (they read
-- user_id); checked once here instead, the aggregates run from the indexes alone.
CREATE FUNCTION lead_stats() RETURNS jsonb LANGUAGE plpgsql STABLE {DEFINER} AS $$
DECLARE
    contacted bigint;
    median double precision;
BEGIN
    IF NOT app_is_staff() THEN
        RAISE EXCEPTION 'lead statistics are for staff' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT count(*) INTO contacted FROM leads WHERE first_contact_seconds IS NOT NULL;
    IF contacted > 0 THEN
        SELECT avg(v) INTO median FROM (
            SELECT first_contact_seconds AS v FROM leads
            WHERE first_contact_seconds IS NOT NULL
            ORDER BY first_contact_seconds
            OFFSET (contacted - 1) / 2 LIMIT 2 - contacted % 2) middle;
    END IF;
    RETURN jsonb_build_object(
        'byStatus', (SELECT coalesce(jsonb_object_agg(status, n), '{{}}')
                     FROM (SELECT status, count(*) AS n FROM leads GROUP BY status) s),
        'bySource', (SELECT coalesce(jsonb_object_agg(source, jsonb_build_object(
                         'total', total, 'converted', converted,
                         'conversionRate', round(converted::numeric / total, 4))), '{{}}')
                     FROM (SELECT source, count(*) AS total,
                                  count(*) FILTER (WHERE status = 'converted') AS converted
                           FROM leads GROUP BY source) s),
        'medianHoursToFirstContact', round((median / 3600)::numeric, 2));
END $$;

CREATE FUNCTION newsletter_is_suppressed(p_email text) RETURNS boolean
LANGUAGE sql STABLE {DEFINER} AS $$
    SELECT EXISTS (SELECT 1 FROM newsletter_suppressions WHERE email_hash = email_hash(p_email))
$$;
"""

SECURITY = """
ALTER TABLE lead_scoring_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE lead_scoring_rules FORCE ROW LEVEL SECURITY;
ALTER TABLE newsletter_suppressions ENABLE ROW LEVEL SECURITY;
ALTER TABLE newsletter_suppressions FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON lead_scoring_rules TO dreamer_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON newsletter_suppressions TO dreamer_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON lead_scoring_rules TO dreamer_app;
CREATE POLICY app_select ON lead_scoring_rules FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_insert ON lead_scoring_rules FOR INSERT TO dreamer_app
    WITH CHECK ((SELECT app_is_staff()));
CREATE POLICY app_update ON lead_scoring_rules FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_delete ON lead_scoring_rules FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE TRIGGER lead_scoring_rules_set_updated_at BEFORE UPDATE ON lead_scoring_rules
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER lead_scoring_rules_audit AFTER INSERT OR UPDATE OR DELETE ON lead_scoring_rules
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();
"""

APP_FUNCTIONS = (
    "capture_lead(jsonb, boolean)",
    "newsletter_subscribe(text, jsonb, jsonb, uuid, text)",
    "newsletter_confirm(text, timestamptz, jsonb)",
    "newsletter_unsubscribe(text, timestamptz)",
    "newsletter_is_suppressed(text)",
    "lead_stats()",
)
OWNER_FUNCTIONS = (
    "lead_score_details(leads, timestamptz)",
    "leads_before_write()",
    "newsletter_lead_activity()",
    "leads_timeline()",
    "lead_activity_touch()",
    "recompute_lead_scores()",
    "lead_rules_changed()",
)


def upgrade() -> None:
    run_script(TABLES)
    run_script(FUNCTIONS)
    run_script(SECURITY)
    for fn in APP_FUNCTIONS + OWNER_FUNCTIONS:
        run_script(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
    for fn in APP_FUNCTIONS:
        run_script(f"GRANT EXECUTE ON FUNCTION {fn} TO dreamer_app")
    # New columns of tables with per-column grants (users, newsletter_subscriptions).
    run_script(
        "GRANT SELECT (accepts_leads), UPDATE (accepts_leads) ON users TO dreamer_app;"
        " GRANT SELECT (confirmation_expires), UPDATE (confirmation_expires)"
        " ON newsletter_subscriptions"
        " TO dreamer_app"
    )
    # Re-score the leads that exist (the BEFORE trigger fills score and score_details).
    run_script("SELECT recompute_lead_scores()")


def downgrade() -> None:
    run_script(
        """
        DROP TRIGGER newsletter_subscriptions_lead_activity ON newsletter_subscriptions;
        DROP FUNCTION newsletter_lead_activity();
        DROP TRIGGER lead_scoring_rules_changed ON lead_scoring_rules;
        DROP TRIGGER lead_activities_touch ON lead_activities;
        DROP TRIGGER leads_timeline ON leads;
        DROP TRIGGER leads_before_write ON leads;
        DROP FUNCTION lead_stats(), newsletter_is_suppressed(text), newsletter_unsubscribe(text, timestamptz),
            newsletter_confirm(text, timestamptz, jsonb),
            newsletter_subscribe(text, jsonb, jsonb, uuid, text), capture_lead(jsonb, boolean),
            lead_rules_changed(), recompute_lead_scores(), lead_activity_touch(),
            leads_timeline(), leads_before_write(), lead_score_details(leads, timestamptz),
            email_hash(text);
        DROP TABLE newsletter_suppressions, lead_scoring_rules;
        DROP INDEX idx_newsletter_subscriptions_active, idx_newsletter_subscriptions_tags;
        ALTER TABLE newsletter_subscriptions DROP COLUMN confirmation_expires;
        DROP INDEX idx_leads_open_email, idx_leads_score, idx_leads_source, idx_leads_tags,
            idx_leads_search, idx_leads_first_contact_seconds;
        ALTER TABLE leads DROP COLUMN first_contact_seconds, DROP COLUMN notes, DROP COLUMN first_contacted_at,
            DROP COLUMN last_activity_at, DROP COLUMN score_details, DROP COLUMN search;
        ALTER TABLE users DROP COLUMN accepts_leads;
        """
    )
