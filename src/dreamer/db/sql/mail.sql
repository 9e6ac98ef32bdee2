-- mail.sql — The transactional outbox: mails are queued in the transaction that causes them.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- Queue a mail in the caller's transaction. The caller names the template and what the mail is
-- about; the recipient is always read from the database, never taken from the caller:
--   verify_email, password_reset, password_changed  about a user: to that user (credential
--       path only: the dreamer_auth role, or the owner's worker)
--   booking_*                                       about a booking: to its client
--   newsletter_confirm, newsletter_welcome          about a subscription: to its address
--   lead_new                                        about a lead: to p_staff, an active staff member
-- Returns the outbox id, or NULL when there is nobody to mail (the subject is gone).
CREATE OR REPLACE FUNCTION enqueue_mail(p_template text, p_subject uuid, p_staff uuid DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    recipient text;
    recipient_id uuid;
    details jsonb;
    mail_id uuid;
BEGIN
    IF p_template IN ('verify_email', 'password_reset', 'password_changed') THEN
        IF NOT (pg_has_role(session_user, 'dreamer_auth', 'MEMBER')
                OR pg_has_role(session_user, 'dreamer_owner', 'MEMBER')) THEN
            RAISE EXCEPTION 'account mail is sent by the credential path only'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT u.email, u.id, jsonb_strip_nulls(jsonb_build_object('first_name', u.first_name))
        INTO recipient, recipient_id, details
        FROM users u WHERE u.id = p_subject;
    ELSIF p_template IN ('booking_requested', 'booking_confirmed', 'booking_rescheduled',
                         'booking_cancelled', 'booking_reminder') THEN
        SELECT u.email, u.id, jsonb_build_object('booking_id', b.id)
        INTO recipient, recipient_id, details
        FROM service_bookings b JOIN users u ON u.id = b.user_id WHERE b.id = p_subject;
    ELSIF p_template IN ('newsletter_confirm', 'newsletter_welcome') THEN
        SELECT s.email, NULL, jsonb_build_object('subscription_id', s.id)
        INTO recipient, recipient_id, details
        FROM newsletter_subscriptions s WHERE s.id = p_subject;
    ELSIF p_template = 'lead_new' THEN
        SELECT u.email, u.id, jsonb_build_object('lead_id', l.id)
        INTO recipient, recipient_id, details
        FROM leads l, users u
        WHERE l.id = p_subject AND u.id = p_staff AND u.status = 'active'
          AND u.role IN ('admin', 'super_admin');
    ELSE
        RAISE EXCEPTION 'unknown mail template %', p_template
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF recipient IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO mail_outbox (template, user_id, to_address, context)
    VALUES (p_template, recipient_id, recipient, details)
    RETURNING id INTO mail_id;
    RETURN mail_id;
END $$;

GRANT EXECUTE ON FUNCTION enqueue_mail(text,uuid,uuid) TO dreamer_app;

CREATE OR REPLACE FUNCTION mail_outbox_defer() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = procrastinate, pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM procrastinate.procrastinate_defer_jobs_v1(ARRAY[
        ROW('mail', 'send_mail', 0, NULL, NULL, jsonb_build_object('outbox_id', NEW.id), NULL)
            ::procrastinate.procrastinate_job_to_defer_v1]);
    RETURN NULL;
END $$;

-- mail_outbox
ALTER TABLE mail_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON mail_outbox TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON mail_outbox FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT ON mail_outbox TO dreamer_app;
CREATE TRIGGER mail_outbox_defer
    AFTER INSERT ON mail_outbox
    FOR EACH ROW
    EXECUTE FUNCTION mail_outbox_defer();
CREATE TRIGGER mail_outbox_set_updated_at
    BEFORE UPDATE ON mail_outbox
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
