-- worker.sql — What the background worker (role dreamer_worker) may do, and nothing more.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).
--
-- It renders and sends mail: it reads what mails are about (accounts, bookings, services, leads,
-- subscriptions; never a secret column) and writes only the digests of the tokens it mints
-- and the outbox's delivery state. Maintenance (partitions, analytics retention, expired
-- sessions, lead scores, reminders) goes through the owner's functions it may execute. Its job
-- queue is procrastinate's schema.

GRANT USAGE ON SCHEMA public TO dreamer_worker;

GRANT EXECUTE ON FUNCTION
    app_begin(uuid,uuid,text,text,text,text,text),
    app_user_id(),
    app_role(),
    app_visitor_id(),
    app_has_role(text[]),
    app_is_staff(),
    app_is_super_admin(),
    app_is_privileged(),
    ensure_monthly_partitions(regclass,integer),
    recompute_lead_scores(),
    auth_purge_expired(timestamp with time zone),
    chat_purge_anonymous(timestamp with time zone),
    analytics_retain(integer),
    report_refresh(),
    claim_due_reminders(timestamp with time zone),
    enqueue_mail(text,uuid,uuid)
TO dreamer_worker;

-- the outbox: read a mail, record its delivery
GRANT SELECT ON mail_outbox TO dreamer_worker;
GRANT UPDATE (status, attempts, last_error, sent_at) ON mail_outbox TO dreamer_worker;
CREATE POLICY worker_select ON mail_outbox FOR SELECT TO dreamer_worker USING (true);
CREATE POLICY worker_update ON mail_outbox FOR UPDATE TO dreamer_worker USING (true);

-- accounts: what a mail needs (every column but the secrets, as the ORM loads a row whole);
-- the token digests of mailed links (write only)
GRANT SELECT (
    id, email, first_name, last_name, phone, company, job_title, role, status, email_verified,
    email_verification_expires, password_reset_expires, last_login, login_count, preferences,
    metadata, created_at, updated_at, accepts_leads
) ON users TO dreamer_worker;
GRANT UPDATE (
    email_verification_token, email_verification_expires, password_reset_token,
    password_reset_expires
) ON users TO dreamer_worker;
CREATE POLICY worker_select ON users FOR SELECT TO dreamer_worker USING (true);
CREATE POLICY worker_update ON users FOR UPDATE TO dreamer_worker USING (true);

-- subscriptions: the address, and the digest of the confirmation token (write only)
GRANT SELECT (
    id, email, user_id, is_active, tags, confirmed_at, unsubscribed_at, consent, metadata,
    created_at, updated_at, confirmation_expires
) ON newsletter_subscriptions TO dreamer_worker;
GRANT UPDATE (confirmation_token, confirmation_expires) ON newsletter_subscriptions
    TO dreamer_worker;
CREATE POLICY worker_select ON newsletter_subscriptions FOR SELECT TO dreamer_worker
    USING (true);
CREATE POLICY worker_update ON newsletter_subscriptions FOR UPDATE TO dreamer_worker
    USING (true);

-- what booking and lead mails describe
GRANT SELECT ON service_bookings, services, leads TO dreamer_worker;
CREATE POLICY worker_select ON service_bookings FOR SELECT TO dreamer_worker USING (true);
CREATE POLICY worker_select ON services FOR SELECT TO dreamer_worker USING (true);
CREATE POLICY worker_select ON leads FOR SELECT TO dreamer_worker USING (true);

-- procrastinate's queue (its own schema, outside the reset of db/sql/)
GRANT USAGE ON SCHEMA procrastinate TO dreamer_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA procrastinate TO dreamer_worker;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA procrastinate TO dreamer_worker;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA procrastinate TO dreamer_worker;
