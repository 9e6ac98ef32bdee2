-- newsletter.sql — The newsletter: double opt-in, one-click unsubscribe, suppressions.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- Newsletter: subscribe (never reveals or downgrades state), confirm, unsubscribe.
CREATE OR REPLACE FUNCTION newsletter_subscribe(p_email text, p_tags jsonb, p_consent jsonb,
                                     p_user_id uuid, p_unsubscribe_hash text)
RETURNS TABLE (subscription_id uuid, needs_confirmation boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
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
        consent = jsonb_set(n.consent, '{history}',
                            coalesce(n.consent -> 'history', '[]') || jsonb_build_array(p_consent)),
        user_id = coalesce(n.user_id, p_user_id),
        unsubscribe_token = coalesce(n.unsubscribe_token, p_unsubscribe_hash)
    WHERE n.id = s.id;
    -- an active subscription stays active; anything else needs the double opt-in again
    RETURN QUERY SELECT s.id, NOT s.is_active;
END $$;

GRANT EXECUTE ON FUNCTION newsletter_subscribe(text,jsonb,jsonb,uuid,text) TO dreamer_app;

CREATE OR REPLACE FUNCTION newsletter_confirm(p_token_hash text, p_now timestamptz, p_consent jsonb)
RETURNS TABLE (subscription_id uuid, email text) LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    target newsletter_subscriptions%ROWTYPE;
BEGIN
    UPDATE newsletter_subscriptions n SET
        is_active = true, confirmed_at = p_now, unsubscribed_at = NULL,
        confirmation_token = NULL, confirmation_expires = NULL,
        consent = jsonb_set(n.consent, '{history}',
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

GRANT EXECUTE ON FUNCTION newsletter_confirm(text,timestamp with time zone,jsonb) TO dreamer_app;

CREATE OR REPLACE FUNCTION newsletter_unsubscribe(p_token_hash text, p_now timestamptz)
RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
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

GRANT EXECUTE ON FUNCTION newsletter_unsubscribe(text,timestamp with time zone) TO dreamer_app;

-- Newsletter events of a lead's address show up on the lead's timeline (and its score).
CREATE OR REPLACE FUNCTION newsletter_lead_activity() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
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

CREATE OR REPLACE FUNCTION newsletter_is_suppressed(p_email text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM newsletter_suppressions WHERE email_hash = email_hash(p_email))
$$;

GRANT EXECUTE ON FUNCTION newsletter_is_suppressed(text) TO dreamer_app;

-- newsletter_subscriptions
ALTER TABLE newsletter_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE newsletter_subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON newsletter_subscriptions TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON newsletter_subscriptions FOR SELECT TO dreamer_app
    USING ((user_id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
CREATE POLICY app_insert ON newsletter_subscriptions FOR INSERT TO dreamer_app
    WITH CHECK (((NOT is_active) AND (confirmed_at IS NULL) AND ((user_id IS NULL) OR (user_id = (SELECT app_user_id())))) OR (SELECT app_is_staff()));
CREATE POLICY app_update ON newsletter_subscriptions FOR UPDATE TO dreamer_app
    USING ((user_id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
CREATE POLICY app_delete ON newsletter_subscriptions FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT DELETE ON newsletter_subscriptions TO dreamer_app;
-- Staff imports insert confirmed subscribers with their unsubscribe digest; confirmation tokens
-- are minted by the worker only.
GRANT INSERT (
    id, email, user_id, is_active, tags, confirmed_at, unsubscribed_at, consent, metadata,
    created_at, updated_at, confirmation_expires, unsubscribe_token
) ON newsletter_subscriptions TO dreamer_app;
GRANT SELECT (
    id, email, user_id, is_active, tags, confirmed_at, unsubscribed_at, consent, metadata,
    created_at, updated_at, confirmation_expires
) ON newsletter_subscriptions TO dreamer_app;
GRANT UPDATE (
    id, email, user_id, is_active, tags, confirmed_at, unsubscribed_at, consent, metadata,
    created_at, updated_at, confirmation_expires
) ON newsletter_subscriptions TO dreamer_app;
CREATE TRIGGER newsletter_subscriptions_audit
    AFTER INSERT OR DELETE OR UPDATE ON newsletter_subscriptions
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER newsletter_subscriptions_lead_activity
    AFTER INSERT OR UPDATE OF is_active ON newsletter_subscriptions
    FOR EACH ROW
    EXECUTE FUNCTION newsletter_lead_activity();
CREATE TRIGGER newsletter_subscriptions_set_updated_at
    BEFORE UPDATE ON newsletter_subscriptions
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();

-- newsletter_suppressions
ALTER TABLE newsletter_suppressions ENABLE ROW LEVEL SECURITY;
ALTER TABLE newsletter_suppressions FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON newsletter_suppressions TO dreamer_owner
    USING (true)
    WITH CHECK (true);
