-- auth.sql — Sessions, refresh-token history and the credential functions logins and tokens go through.
-- Those functions read or write password hashes and mint sessions: only dreamer_auth, the role of
-- the credential code path (its own pool), may execute them; dreamer_app may not.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

CREATE OR REPLACE FUNCTION auth_credentials(p_email text)
RETURNS TABLE (user_id uuid, password_hash text, role user_role, status user_status,
               email_verified boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT u.id, u.password_hash, u.role, u.status, u.email_verified
    FROM users u WHERE lower(u.email) = lower(btrim(p_email))
$$;

GRANT EXECUTE ON FUNCTION auth_credentials(text) TO dreamer_auth;

CREATE OR REPLACE FUNCTION auth_session_by_token(p_token_hash text)
RETURNS TABLE (session_id uuid, user_id uuid, family_id uuid, expires_at timestamptz,
               last_used_at timestamptz, revoked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT s.id, s.user_id, s.family_id, s.expires_at, s.last_used_at, s.revoked_at
    FROM user_sessions s WHERE s.session_token = p_token_hash
$$;

GRANT EXECUTE ON FUNCTION auth_session_by_token(text) TO dreamer_auth;

CREATE OR REPLACE FUNCTION auth_create_session(p_user_id uuid, p_token_hash text, p_ip inet,
                                    p_user_agent text, p_expires_at timestamptz)
RETURNS uuid LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    INSERT INTO user_sessions (user_id, session_token, ip_address, user_agent, expires_at)
    VALUES (p_user_id, p_token_hash, p_ip, left(p_user_agent, 1000), p_expires_at)
    RETURNING id
$$;

GRANT EXECUTE ON FUNCTION auth_create_session(uuid,text,inet,text,timestamp with time zone) TO dreamer_auth;

-- Rotate a refresh token. Outcomes: ok | invalid | reused | revoked | expired | inactive.
-- A token that was already rotated away ("reused") revokes its whole session: either the user
-- or a thief holds a copy, and neither may continue.
CREATE OR REPLACE FUNCTION auth_rotate_session(p_old_hash text, p_new_hash text, p_idle_seconds integer,
                                    p_now timestamptz)
RETURNS TABLE (outcome text, session_id uuid, user_id uuid, role user_role)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    s user_sessions%ROWTYPE;
    u users%ROWTYPE;
    reused uuid;
BEGIN
    SELECT * INTO s FROM user_sessions WHERE session_token = p_old_hash FOR UPDATE;
    IF NOT FOUND THEN
        SELECT h.session_id INTO reused FROM refresh_token_history h
        WHERE h.token_hash = p_old_hash;
        IF reused IS NULL THEN
            RETURN QUERY SELECT 'invalid'::text, NULL::uuid, NULL::uuid, NULL::user_role;
            RETURN;
        END IF;
        UPDATE user_sessions us
        SET revoked_at = coalesce(us.revoked_at, p_now),
            revoked_reason = coalesce(us.revoked_reason, 'refresh_token_reuse')
        WHERE us.id = reused RETURNING * INTO s;
        RETURN QUERY SELECT 'reused'::text, s.id, s.user_id, NULL::user_role;
        RETURN;
    END IF;
    SELECT * INTO u FROM users WHERE id = s.user_id;
    IF s.revoked_at IS NOT NULL THEN
        RETURN QUERY SELECT 'revoked'::text, s.id, s.user_id, u.role;
        RETURN;
    END IF;
    IF s.expires_at <= p_now OR s.last_used_at + make_interval(secs => p_idle_seconds) <= p_now
    THEN
        UPDATE user_sessions SET revoked_at = p_now, revoked_reason = 'expired' WHERE id = s.id;
        RETURN QUERY SELECT 'expired'::text, s.id, s.user_id, u.role;
        RETURN;
    END IF;
    IF u.status NOT IN ('active', 'pending_verification') THEN
        UPDATE user_sessions SET revoked_at = p_now, revoked_reason = 'account_' || u.status
        WHERE id = s.id;
        RETURN QUERY SELECT 'inactive'::text, s.id, s.user_id, u.role;
        RETURN;
    END IF;
    INSERT INTO refresh_token_history (token_hash, session_id) VALUES (p_old_hash, s.id);
    UPDATE user_sessions SET session_token = p_new_hash, last_used_at = p_now WHERE id = s.id;
    RETURN QUERY SELECT 'ok'::text, s.id, s.user_id, u.role;
END $$;

GRANT EXECUTE ON FUNCTION auth_rotate_session(text,text,integer,timestamp with time zone) TO dreamer_auth;

CREATE OR REPLACE FUNCTION auth_record_login(p_user_id uuid, p_rehash text, p_now timestamptz)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    UPDATE users
    SET last_login = p_now, login_count = login_count + 1,
        password_hash = coalesce(p_rehash, password_hash)
    WHERE id = p_user_id
$$;

GRANT EXECUTE ON FUNCTION auth_record_login(uuid,text,timestamp with time zone) TO dreamer_auth;

-- Only for the signed-in caller's own account (password change).
CREATE OR REPLACE FUNCTION auth_own_password_hash() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT password_hash FROM users WHERE id = app_user_id()
$$;

GRANT EXECUTE ON FUNCTION auth_own_password_hash() TO dreamer_auth;

CREATE OR REPLACE FUNCTION auth_set_own_password(p_new_hash text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    UPDATE users SET password_hash = p_new_hash WHERE id = app_user_id();
    RETURN FOUND;
END $$;

GRANT EXECUTE ON FUNCTION auth_set_own_password(text) TO dreamer_auth;

CREATE OR REPLACE FUNCTION auth_verify_email(p_token_hash text, p_now timestamptz) RETURNS uuid
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    UPDATE users
    SET email_verified = true,
        status = CASE WHEN status = 'pending_verification' THEN 'active'::user_status
                      ELSE status END,
        email_verification_token = NULL, email_verification_expires = NULL
    WHERE email_verification_token = p_token_hash AND email_verification_expires > p_now
    RETURNING id
$$;

GRANT EXECUTE ON FUNCTION auth_verify_email(text,timestamp with time zone) TO dreamer_auth;

CREATE OR REPLACE FUNCTION auth_reset_password(p_token_hash text, p_new_hash text, p_now timestamptz)
RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    target uuid;
BEGIN
    UPDATE users
    SET password_hash = p_new_hash,
        password_reset_token = NULL, password_reset_expires = NULL,
        -- following the mailed link proves the address
        email_verified = true,
        status = CASE WHEN status = 'pending_verification' THEN 'active'::user_status
                      ELSE status END
    WHERE password_reset_token = p_token_hash AND password_reset_expires > p_now
    RETURNING id INTO target;
    IF target IS NOT NULL THEN
        UPDATE user_sessions SET revoked_at = p_now, revoked_reason = 'password_reset'
        WHERE user_id = target AND revoked_at IS NULL;
    END IF;
    RETURN target;
END $$;

GRANT EXECUTE ON FUNCTION auth_reset_password(text,text,timestamp with time zone) TO dreamer_auth;

-- A reset request in one round trip whether or not the address has an account, so the answer
-- takes as long either way (the mail itself goes out later, from the worker).
CREATE OR REPLACE FUNCTION auth_request_password_reset(p_email text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    target uuid;
BEGIN
    SELECT u.id INTO target FROM users u
    WHERE lower(u.email) = lower(btrim(p_email)) AND u.status NOT IN ('suspended', 'inactive');
    IF target IS NOT NULL THEN
        PERFORM enqueue_mail('password_reset', target);
    END IF;
    PERFORM record_audit_event('auth.password_reset_requested', 'users', target,
                               jsonb_build_object('known', target IS NOT NULL));
END $$;

GRANT EXECUTE ON FUNCTION auth_request_password_reset(text) TO dreamer_auth;

CREATE OR REPLACE FUNCTION auth_purge_expired(p_now timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    removed integer;
BEGIN
    DELETE FROM user_sessions
    WHERE coalesce(revoked_at, expires_at) < p_now - interval '30 days';
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM rate_limits WHERE drained_at < p_now;
    RETURN removed;
END $$;

-- user_sessions
ALTER TABLE user_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON user_sessions TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON user_sessions FOR SELECT TO dreamer_app
    USING ((user_id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
CREATE POLICY app_insert ON user_sessions FOR INSERT TO dreamer_app
    WITH CHECK ((user_id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
CREATE POLICY app_update ON user_sessions FOR UPDATE TO dreamer_app
    USING ((user_id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
CREATE POLICY app_delete ON user_sessions FOR DELETE TO dreamer_app
    USING ((user_id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
-- Sessions are minted by auth_create_session() only (credential path): no INSERT here.
GRANT DELETE ON user_sessions TO dreamer_app;
GRANT SELECT (
    id, user_id, family_id, ip_address, user_agent, expires_at, last_used_at, revoked_at,
    revoked_reason, created_at, updated_at
) ON user_sessions TO dreamer_app;
GRANT UPDATE (
    id, user_id, family_id, ip_address, user_agent, expires_at, last_used_at, revoked_at,
    revoked_reason, created_at, updated_at
) ON user_sessions TO dreamer_app;
CREATE TRIGGER user_sessions_audit
    AFTER INSERT OR DELETE OR UPDATE ON user_sessions
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change('last_used_at');
CREATE TRIGGER user_sessions_set_updated_at
    BEFORE UPDATE ON user_sessions
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();

-- refresh_token_history
ALTER TABLE refresh_token_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_token_history FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON refresh_token_history TO dreamer_owner
    USING (true)
    WITH CHECK (true);
