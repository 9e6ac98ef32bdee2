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
