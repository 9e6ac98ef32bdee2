-- mail.sql — The transactional outbox: mails are queued in the transaction that causes them.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

CREATE OR REPLACE FUNCTION enqueue_mail(p_template text, p_user_id uuid, p_to text, p_context jsonb)
RETURNS uuid LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO mail_outbox (template, user_id, to_address, context)
    VALUES (p_template, p_user_id, p_to, coalesce(p_context, '{}'))
    RETURNING id
$$;

GRANT EXECUTE ON FUNCTION enqueue_mail(text,uuid,text,jsonb) TO dreamer_app;

CREATE OR REPLACE FUNCTION mail_outbox_defer() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = procrastinate, pg_catalog, public AS $$
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
