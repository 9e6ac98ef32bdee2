-- gdpr.sql — A person's data: all of it in one document (export), and its erasure.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).
--
-- Who may ask: the person (the request's own account), staff (for an account that is not
-- staff; a super_admin for any), and the owner (the CLI). Secrets are never exported.

-- Never NULL: an anonymous caller (app_user_id() NULL) must get false, not NULL, which an IF
-- NOT … would let through.
CREATE OR REPLACE FUNCTION gdpr_may_act_on(p_user uuid, p_role user_role) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(p_user = app_user_id(), false)
        OR coalesce(app_is_staff() AND (p_role NOT IN ('admin', 'super_admin')
                                        OR app_is_super_admin()), false)
        OR pg_has_role(session_user, 'dreamer_owner', 'MEMBER')
$$;

-- Every string in doc that contains one of p_needles (case-insensitive) becomes "[erased]".
CREATE OR REPLACE FUNCTION gdpr_scrub(doc jsonb, p_needles text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF doc IS NULL THEN
        RETURN NULL;
    END IF;
    CASE jsonb_typeof(doc)
        WHEN 'object' THEN
            RETURN (SELECT coalesce(jsonb_object_agg(e.key, gdpr_scrub(e.value, p_needles)), '{}')
                    FROM jsonb_each(doc) e);
        WHEN 'array' THEN
            RETURN (SELECT coalesce(jsonb_agg(gdpr_scrub(a.value, p_needles) ORDER BY a.n), '[]')
                    FROM jsonb_array_elements(doc) WITH ORDINALITY AS a(value, n));
        WHEN 'string' THEN
            IF EXISTS (SELECT 1 FROM unnest(p_needles) AS n(needle)
                       WHERE length(n.needle) >= 2
                         AND strpos(lower(doc #>> '{}'), lower(n.needle)) > 0) THEN
                RETURN '"[erased]"'::jsonb;
            END IF;
            RETURN doc;
        ELSE
            RETURN doc;
    END CASE;
END $$;

-- The export (GET /users/me/export, the staff equivalent, dreamer export-user): one document
-- of every personal datum held about the account, format "dreamer-export/1" (README).
CREATE OR REPLACE FUNCTION gdpr_export(p_user uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    person users;
    address text;
BEGIN
    SELECT * INTO person FROM users u WHERE u.id = p_user;
    IF NOT FOUND OR NOT gdpr_may_act_on(p_user, person.role) THEN
        RAISE EXCEPTION 'not allowed to export this account' USING ERRCODE = 'insufficient_privilege';
    END IF;
    address := lower(btrim(person.email));
    RETURN jsonb_build_object(
        'format', 'dreamer-export/1',
        'exportedAt', now(),
        'profile', to_jsonb(person) - ARRAY['password_hash', 'email_verification_token',
                                            'password_reset_token'],
        'sessions', (SELECT coalesce(jsonb_agg(to_jsonb(s) - 'session_token' ORDER BY s.created_at), '[]')
                     FROM user_sessions s WHERE s.user_id = p_user),
        'bookings', (SELECT coalesce(jsonb_agg(to_jsonb(b) ORDER BY b.scheduled_at), '[]')
                     FROM service_bookings b WHERE b.user_id = p_user),
        'leads', (SELECT coalesce(jsonb_agg(to_jsonb(l) - 'search' || jsonb_build_object(
                      'activities', (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.created_at), '[]')
                                     FROM lead_activities a WHERE a.lead_id = l.id))
                      ORDER BY l.created_at), '[]')
                  FROM leads l WHERE l.user_id = p_user OR l.email_normalized = address),
        'chat', (SELECT coalesce(jsonb_agg(to_jsonb(c) || jsonb_build_object(
                     'messages', (SELECT coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.created_at), '[]')
                                  FROM chat_messages m WHERE m.conversation_id = c.id))
                     ORDER BY c.created_at), '[]')
                 FROM chat_conversations c WHERE c.user_id = p_user),
        'chatUsage', (SELECT coalesce(jsonb_agg(to_jsonb(u) ORDER BY u.hour), '[]')
                      FROM chat_usage u WHERE u.user_id = p_user OR u.subject = 'user:' || p_user),
        'newsletter', (SELECT coalesce(jsonb_agg(to_jsonb(n) - ARRAY['confirmation_token',
                                                                     'unsubscribe_token']
                                                 ORDER BY n.created_at), '[]')
                       FROM newsletter_subscriptions n
                       WHERE n.user_id = p_user OR lower(btrim(n.email)) = address),
        'mail', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                     'template', o.template, 'to', o.to_address, 'status', o.status,
                     'createdAt', o.created_at, 'sentAt', o.sent_at) ORDER BY o.created_at), '[]')
                 FROM mail_outbox o WHERE o.user_id = p_user OR lower(o.to_address) = address),
        'analyticsEvents', (SELECT coalesce(jsonb_agg(to_jsonb(e) ORDER BY e.created_at), '[]')
                            FROM analytics_events e WHERE e.user_id = p_user),
        'auditTrail', (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.created_at), '[]')
                       FROM audit_logs a
                       WHERE a.user_id = p_user OR (a.entity_type = 'users' AND a.entity_id = p_user))
    );
END $$;

GRANT EXECUTE ON FUNCTION gdpr_export(uuid) TO dreamer_app;

-- The erasure (DELETE /users/me with the password, the staff equivalent, dreamer erase-user).
-- Deleted: the account, its sessions, bookings but completed ones, leads under its account or
-- address (with their activities), chat conversations, newsletter subscriptions, mail.
-- Kept, with the person taken out: completed bookings (accounting: no account, notes or
-- link), chat usage figures and audit entries (under a random pseudonym), analytics events
-- (no account). Every audit entry about the person's rows, or holding their address, phone
-- or name, has those values replaced by "[erased]"; entries made from their IP addresses lose
-- the address and user agent. The address's hash joins the newsletter suppression list. The
-- erasure itself is recorded in gdpr_erasures without personal data. Returns the pseudonym
-- and the rows touched per table ("table.action": n); a dry run is this in a rolled-back
-- savepoint (dreamer.privacy.service).
CREATE OR REPLACE FUNCTION gdpr_erase(p_user uuid) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    person users;
    address text;
    alias uuid := gen_random_uuid();
    needles text[];
    wide text[];
    ips inet[];
    visitors text[];
    entities uuid[];
    counts jsonb := '{}';
    n bigint;
    asked_by text;
BEGIN
    SELECT * INTO person FROM users u WHERE u.id = p_user FOR UPDATE;
    IF NOT FOUND OR NOT gdpr_may_act_on(p_user, person.role) THEN
        RAISE EXCEPTION 'not allowed to erase this account' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF person.role = 'super_admin' AND NOT EXISTS (
        SELECT 1 FROM users u WHERE u.role = 'super_admin' AND u.status = 'active' AND u.id <> p_user
    ) THEN
        RAISE EXCEPTION 'the last super_admin cannot be erased' USING ERRCODE = 'insufficient_privilege';
    END IF;
    address := lower(btrim(person.email));
    asked_by := CASE WHEN p_user = app_user_id() THEN 'self'
                     WHEN app_is_staff() THEN 'staff' ELSE 'cli' END;
    -- what identifies the person: in rows about them, any of these; elsewhere the wide ones
    wide := array_remove(ARRAY[address, nullif(btrim(person.phone), ''),
                               nullif(btrim(concat_ws(' ', person.first_name, person.last_name)), '')],
                         NULL);
    needles := wide || array_remove(ARRAY[nullif(btrim(person.first_name), ''),
                                          nullif(btrim(person.last_name), '')], NULL);
    SELECT array_agg(DISTINCT ip) INTO ips FROM (
        SELECT s.ip_address AS ip FROM user_sessions s WHERE s.user_id = p_user
        UNION SELECT a.ip_address FROM audit_logs a WHERE a.user_id = p_user
        UNION SELECT nullif(current_setting('app.ip', true), '')::inet WHERE asked_by = 'self'
    ) i WHERE ip IS NOT NULL;
    -- in the rows about them, their addresses and browsers too (a session row records both)
    needles := needles
        || coalesce((SELECT array_agg(DISTINCT host(i)) FROM unnest(ips) AS i), '{}')
        || coalesce((SELECT array_agg(DISTINCT s.user_agent) FROM user_sessions s
                     WHERE s.user_id = p_user AND s.user_agent IS NOT NULL), '{}');
    SELECT array_agg(DISTINCT v) INTO visitors FROM (
        SELECT a.metadata ->> 'visitor_id' AS v FROM audit_logs a WHERE a.user_id = p_user
        UNION SELECT c.session_id FROM chat_conversations c WHERE c.user_id = p_user
    ) x WHERE v IS NOT NULL;
    SELECT array_agg(id) INTO entities FROM (
        SELECT p_user AS id
        UNION ALL SELECT s.id FROM user_sessions s WHERE s.user_id = p_user
        UNION ALL SELECT b.id FROM service_bookings b WHERE b.user_id = p_user
        UNION ALL SELECT l.id FROM leads l WHERE l.user_id = p_user OR l.email_normalized = address
        UNION ALL SELECT a.id FROM lead_activities a JOIN leads l ON l.id = a.lead_id
                  WHERE l.user_id = p_user OR l.email_normalized = address
        UNION ALL SELECT c.id FROM chat_conversations c WHERE c.user_id = p_user
        UNION ALL SELECT m.id FROM chat_messages m JOIN chat_conversations c ON c.id = m.conversation_id
                  WHERE c.user_id = p_user
        UNION ALL SELECT ns.id FROM newsletter_subscriptions ns
                  WHERE ns.user_id = p_user OR lower(btrim(ns.email)) = address
    ) e;

    DELETE FROM leads l WHERE l.user_id = p_user OR l.email_normalized = address;
    GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('leads.deleted', n);
    DELETE FROM service_bookings b WHERE b.user_id = p_user AND b.status <> 'completed';
    GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('service_bookings.deleted', n);
    UPDATE service_bookings b SET user_id = NULL, notes = NULL, internal_notes = NULL,
           meeting_link = NULL, cancellation_reason = NULL, idempotency_key = NULL,
           metadata = gdpr_scrub(b.metadata, needles)
     WHERE b.user_id = p_user;
    GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('service_bookings.pseudonymised', n);
    DELETE FROM chat_conversations c WHERE c.user_id = p_user;
    GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('chat_conversations.deleted', n);
    UPDATE chat_usage u SET subject = 'user:' || alias, user_id = NULL
     WHERE u.user_id = p_user OR u.subject = 'user:' || p_user;
    GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('chat_usage.pseudonymised', n);
    DELETE FROM newsletter_subscriptions ns WHERE ns.user_id = p_user OR lower(btrim(ns.email)) = address;
    GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('newsletter_subscriptions.deleted', n);
    INSERT INTO newsletter_suppressions (email_hash, reason) VALUES (email_hash(address), 'erased')
    ON CONFLICT DO NOTHING;
    DELETE FROM mail_outbox o WHERE o.user_id = p_user OR lower(o.to_address) = address;
    GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('mail_outbox.deleted', n);
    UPDATE analytics_events e SET user_id = NULL, properties = gdpr_scrub(e.properties, needles)
     WHERE e.user_id = p_user;
    GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('analytics_events.pseudonymised', n);
    SELECT count(*) INTO n FROM user_sessions s WHERE s.user_id = p_user;
    counts := counts || jsonb_build_object('user_sessions.deleted', n);
    DELETE FROM users u WHERE u.id = p_user;  -- sessions and their token history go with it
    counts := counts || jsonb_build_object('users.deleted', 1);

    -- the audit trail, last: the deletions above have just added their own entries
    UPDATE audit_logs a
       SET user_id = CASE WHEN a.user_id = p_user THEN alias ELSE a.user_id END,
           entity_id = CASE WHEN a.entity_id = p_user THEN alias ELSE a.entity_id END,
           old_values = gdpr_scrub(a.old_values, needles),
           new_values = gdpr_scrub(a.new_values, needles),
           metadata = gdpr_scrub(a.metadata - 'visitor_id', needles)
                      || CASE WHEN a.metadata ? 'entity_key' AND a.entity_id = p_user
                              THEN jsonb_build_object('entity_key', alias) ELSE '{}' END,
           ip_address = CASE WHEN a.ip_address = ANY (coalesce(ips, '{}')) OR a.user_id = p_user
                             THEN NULL ELSE a.ip_address END,
           user_agent = CASE WHEN a.ip_address = ANY (coalesce(ips, '{}')) OR a.user_id = p_user
                             THEN NULL ELSE a.user_agent END
     WHERE a.user_id = p_user
        OR a.entity_id = ANY (entities)
        OR a.ip_address = ANY (coalesce(ips, '{}'))
        OR a.metadata ->> 'visitor_id' = ANY (coalesce(visitors, '{}'))
        OR EXISTS (SELECT 1 FROM unnest(wide) w
                   WHERE strpos(lower(a.old_values::text), lower(w)) > 0
                      OR strpos(lower(a.new_values::text), lower(w)) > 0);
    GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('audit_logs.pseudonymised', n);

    INSERT INTO gdpr_erasures (pseudonym, requested_by, staff_id, counts)
    VALUES (alias, asked_by, CASE WHEN asked_by = 'staff' THEN app_user_id() END, counts);
    RETURN jsonb_build_object('pseudonym', alias, 'requestedBy', asked_by, 'counts', counts);
END $$;

GRANT EXECUTE ON FUNCTION gdpr_erase(uuid) TO dreamer_app, dreamer_auth;

-- gdpr_erasures: staff read them; only gdpr_erase() writes them
ALTER TABLE gdpr_erasures ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr_erasures FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON gdpr_erasures TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON gdpr_erasures FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT ON gdpr_erasures TO dreamer_app;
