-- users.sql — Accounts: who may see and change which user rows and fields.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- What RLS cannot express (it never sees the old row): who may change which account fields.
CREATE OR REPLACE FUNCTION users_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    staff boolean := app_is_staff();
    super boolean := app_is_super_admin();
BEGIN
    IF app_is_privileged() THEN
        RETURN NEW;  -- migrations, seeding and the SECURITY DEFINER auth functions
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NOT staff AND (NEW.role <> 'visitor' OR NEW.status <> 'pending_verification'
                          OR NEW.email_verified OR NEW.login_count <> 0
                          OR NEW.last_login IS NOT NULL) THEN
            RAISE EXCEPTION 'only staff may create accounts with a role, status or verification'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.role IN ('admin', 'super_admin') AND NOT super THEN
            RAISE EXCEPTION 'only a super_admin may grant the % role', NEW.role
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.role IS DISTINCT FROM OLD.role THEN
        IF (NEW.role IN ('admin', 'super_admin') OR OLD.role IN ('admin', 'super_admin'))
           AND NOT super THEN
            RAISE EXCEPTION 'only a super_admin may grant or revoke staff roles'
                USING ERRCODE = 'insufficient_privilege';
        ELSIF NOT staff THEN
            RAISE EXCEPTION 'only staff may change roles' USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    IF (NEW.status, NEW.email_verified, NEW.login_count, NEW.last_login, NEW.email)
       IS DISTINCT FROM (OLD.status, OLD.email_verified, OLD.login_count, OLD.last_login, OLD.email)
    THEN
        IF NOT staff THEN
            RAISE EXCEPTION 'only staff may change account status, verification or email'
                USING ERRCODE = 'insufficient_privilege';
        ELSIF OLD.role = 'super_admin' AND NOT super THEN
            RAISE EXCEPTION 'only a super_admin may change a super_admin account'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END $$;

-- A signed-in caller's own profile in one statement: on the raw reader that is one round trip
-- instead of BEGIN, app_begin, the read and COMMIT. app_begin() sets the context and checks
-- the session exactly as a transaction's first statement does (its settings are local to this
-- statement's transaction); the read then runs as the caller, under RLS (SECURITY INVOKER).
-- No row: the session has ended or the account changed.
CREATE OR REPLACE FUNCTION own_profile(p_user_id uuid, p_session_id uuid, p_role text,
                                       p_visitor_id text, p_ip text, p_user_agent text,
                                       p_request_id text)
RETURNS TABLE (id uuid, email text, first_name text, last_name text, phone text, company text,
               job_title text, role user_role, status user_status, email_verified boolean,
               accepts_leads boolean, last_login timestamptz, preferences jsonb,
               created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
#variable_conflict use_column
BEGIN
    IF NOT app_begin(p_user_id, p_session_id, p_role, p_visitor_id, p_ip, p_user_agent,
                     p_request_id) THEN
        RETURN;
    END IF;
    RETURN QUERY
        SELECT u.id, u.email, u.first_name, u.last_name, u.phone, u.company, u.job_title, u.role,
               u.status, u.email_verified, u.accepts_leads, u.last_login, u.preferences,
               u.created_at, u.updated_at
        FROM users u WHERE u.id = app_user_id();
END $$;

GRANT EXECUTE ON FUNCTION own_profile(uuid, uuid, text, text, text, text, text) TO dreamer_app;

-- users
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON users TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON users FOR SELECT TO dreamer_app
    USING ((id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
CREATE POLICY app_insert ON users FOR INSERT TO dreamer_app
    WITH CHECK (true);
CREATE POLICY app_update ON users FOR UPDATE TO dreamer_app
    USING ((id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
CREATE POLICY app_delete ON users FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT DELETE ON users TO dreamer_app;
GRANT INSERT (
    id, email, first_name, last_name, phone, company, job_title, role, status, email_verified,
    email_verification_expires, password_reset_expires, last_login, login_count, preferences,
    metadata, created_at, updated_at, accepts_leads
) ON users TO dreamer_app;
-- A new account's password hash is written by the credential path only.
GRANT INSERT (password_hash) ON users TO dreamer_auth;
GRANT SELECT (
    id, email, first_name, last_name, phone, company, job_title, role, status, email_verified,
    email_verification_expires, password_reset_expires, last_login, login_count, preferences,
    metadata, created_at, updated_at, accepts_leads
) ON users TO dreamer_app;
GRANT UPDATE (
    id, email, first_name, last_name, phone, company, job_title, role, status, email_verified,
    email_verification_expires, password_reset_expires, last_login, login_count, preferences,
    metadata, created_at, updated_at, accepts_leads
) ON users TO dreamer_app;
CREATE TRIGGER users_audit
    AFTER INSERT OR DELETE OR UPDATE ON users
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER users_guard
    BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW
    EXECUTE FUNCTION users_guard();
CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
