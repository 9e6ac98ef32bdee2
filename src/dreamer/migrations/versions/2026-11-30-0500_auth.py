"""Accounts and sessions: request identity check, refresh rotation, rate limits, mail outbox.

Revision ID: 0004_auth
Revises: 0003_security
Create Date: 2026-11-30 05:00

Everything that touches a secret column is a SECURITY DEFINER function here, so the app role
never reads a hash. ``app_begin`` replaces the bare ``set_config`` calls: for a signed-in caller
it also checks, in the same round trip, that the access token's session is live and that the
role it claims is the account's current one, so logout, suspension and role changes take effect
on the very next request.

Mail goes through ``mail_outbox``, written in the caller's transaction; a trigger defers a
procrastinate job for each row in the same transaction (procrastinate's own schema lives in the
``procrastinate`` schema, out of the app role's reach). Mails that carry a secret link
(verification, password reset) get their token at send time, in the worker, so no raw token is
ever stored: the job arguments and the outbox hold only the user id.
"""

from __future__ import annotations

from importlib import resources

from dreamer.migrations.sql import run_script

revision = "0004_auth"
down_revision = "0003_security"
branch_labels = None
depends_on = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"

TABLES = """
CREATE TABLE refresh_token_history (
    token_hash text PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES user_sessions (id) ON DELETE CASCADE,
    retired_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_refresh_token_history_session_id ON refresh_token_history (session_id);

CREATE TABLE rate_limits (
    key_hash text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits integer NOT NULL CHECK (hits >= 0)
);
CREATE INDEX idx_rate_limits_window_start ON rate_limits (window_start);

CREATE TYPE mail_status AS ENUM ('pending', 'sent', 'failed');
CREATE TABLE mail_outbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    to_address text NOT NULL CHECK (to_address ~ '^[^@\\s]+@[^@\\s]+$'),
    template text NOT NULL CHECK (template ~ '^[a-z_]+$'),
    context jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(context) = 'object'),
    status mail_status NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    sent_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_mail_outbox_user_id ON mail_outbox (user_id);
CREATE INDEX idx_mail_outbox_status ON mail_outbox (status, created_at);
CREATE TRIGGER mail_outbox_set_updated_at BEFORE UPDATE ON mail_outbox
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
"""

FUNCTIONS = f"""
CREATE FUNCTION app_begin(p_user_id uuid, p_session_id uuid, p_role text, p_visitor_id text,
                          p_ip text, p_user_agent text, p_request_id text)
RETURNS boolean LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    IF p_user_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM users u JOIN user_sessions s ON s.user_id = u.id
        WHERE u.id = p_user_id AND s.id = p_session_id
          AND s.revoked_at IS NULL AND s.expires_at > now()
          AND u.role::text = p_role AND u.status IN ('active', 'pending_verification')
    ) THEN
        RETURN false;
    END IF;
    PERFORM set_config('app.user_id', coalesce(p_user_id::text, ''), true),
            set_config('app.role', CASE WHEN p_user_id IS NULL THEN 'anonymous' ELSE p_role END,
                       true),
            set_config('app.visitor_id', coalesce(p_visitor_id, ''), true),
            set_config('app.ip', coalesce(p_ip, ''), true),
            set_config('app.user_agent', coalesce(left(p_user_agent, 1000), ''), true),
            set_config('app.request_id', coalesce(p_request_id, ''), true);
    RETURN true;
END $$;

CREATE FUNCTION auth_create_session(p_user_id uuid, p_token_hash text, p_ip inet,
                                    p_user_agent text, p_expires_at timestamptz)
RETURNS uuid LANGUAGE sql {DEFINER} AS $$
    INSERT INTO user_sessions (user_id, session_token, ip_address, user_agent, expires_at)
    VALUES (p_user_id, p_token_hash, p_ip, left(p_user_agent, 1000), p_expires_at)
    RETURNING id
$$;

-- Rotate a refresh token. Outcomes: ok | invalid | reused | revoked | expired | inactive.
-- A token that was already rotated away ("reused") revokes its whole session: either the user
-- or a thief holds a copy, and neither may continue.
CREATE FUNCTION auth_rotate_session(p_old_hash text, p_new_hash text, p_idle_seconds integer,
                                    p_now timestamptz)
RETURNS TABLE (outcome text, session_id uuid, user_id uuid, role user_role)
LANGUAGE plpgsql {DEFINER} AS $$
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

CREATE FUNCTION auth_record_login(p_user_id uuid, p_rehash text, p_now timestamptz)
RETURNS void LANGUAGE sql {DEFINER} AS $$
    UPDATE users
    SET last_login = p_now, login_count = login_count + 1,
        password_hash = coalesce(p_rehash, password_hash)
    WHERE id = p_user_id
$$;

-- Only for the signed-in caller's own account (password change).
CREATE FUNCTION auth_own_password_hash() RETURNS text
LANGUAGE sql STABLE {DEFINER} AS $$
    SELECT password_hash FROM users WHERE id = app_user_id()
$$;

CREATE FUNCTION auth_set_own_password(p_new_hash text) RETURNS boolean
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    UPDATE users SET password_hash = p_new_hash WHERE id = app_user_id();
    RETURN FOUND;
END $$;

CREATE FUNCTION auth_verify_email(p_token_hash text, p_now timestamptz) RETURNS uuid
LANGUAGE sql {DEFINER} AS $$
    UPDATE users
    SET email_verified = true,
        status = CASE WHEN status = 'pending_verification' THEN 'active'::user_status
                      ELSE status END,
        email_verification_token = NULL, email_verification_expires = NULL
    WHERE email_verification_token = p_token_hash AND email_verification_expires > p_now
    RETURNING id
$$;

CREATE FUNCTION auth_reset_password(p_token_hash text, p_new_hash text, p_now timestamptz)
RETURNS uuid LANGUAGE plpgsql {DEFINER} AS $$
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

-- Fixed-window counter; returns 0 when the hit is allowed, else seconds until the window ends.
-- Keys are stored hashed: they contain e-mail addresses and IPs.
CREATE FUNCTION rate_limit_hit(p_key text, p_limit integer, p_window_seconds integer,
                               p_now timestamptz)
RETURNS integer LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    started timestamptz;
    hit_count integer;
    window_length interval := make_interval(secs => p_window_seconds);
BEGIN
    INSERT INTO rate_limits AS r (key_hash, window_start, hits)
    VALUES (encode(sha256(convert_to(p_key, 'UTF8')), 'hex'), p_now, 1)
    ON CONFLICT (key_hash) DO UPDATE SET
        window_start = CASE WHEN r.window_start + window_length <= p_now THEN p_now
                            ELSE r.window_start END,
        hits = CASE WHEN r.window_start + window_length <= p_now THEN 1 ELSE r.hits + 1 END
    RETURNING window_start, hits INTO started, hit_count;
    IF hit_count <= p_limit THEN
        RETURN 0;
    END IF;
    RETURN greatest(1, ceil(extract(epoch FROM started + window_length - p_now)))::integer;
END $$;

CREATE FUNCTION enqueue_mail(p_template text, p_user_id uuid, p_to text, p_context jsonb)
RETURNS uuid LANGUAGE sql {DEFINER} AS $$
    INSERT INTO mail_outbox (template, user_id, to_address, context)
    VALUES (p_template, p_user_id, p_to, coalesce(p_context, '{{}}'))
    RETURNING id
$$;

CREATE FUNCTION mail_outbox_defer() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = procrastinate, pg_catalog, public AS $$
BEGIN
    PERFORM procrastinate.procrastinate_defer_jobs_v1(ARRAY[
        ROW('mail', 'send_mail', 0, NULL, NULL, jsonb_build_object('outbox_id', NEW.id), NULL)
            ::procrastinate.procrastinate_job_to_defer_v1]);
    RETURN NULL;
END $$;
CREATE TRIGGER mail_outbox_defer AFTER INSERT ON mail_outbox
    FOR EACH ROW EXECUTE FUNCTION mail_outbox_defer();

CREATE FUNCTION auth_purge_expired(p_now timestamptz) RETURNS integer
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    removed integer;
BEGIN
    DELETE FROM user_sessions
    WHERE coalesce(revoked_at, expires_at) < p_now - interval '30 days';
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM rate_limits WHERE window_start < p_now - interval '1 day';
    RETURN removed;
END $$;
"""

APP_FUNCTIONS = (
    "app_begin(uuid, uuid, text, text, text, text, text)",
    "auth_create_session(uuid, text, inet, text, timestamptz)",
    "auth_rotate_session(text, text, integer, timestamptz)",
    "auth_record_login(uuid, text, timestamptz)",
    "auth_own_password_hash()",
    "auth_set_own_password(text)",
    "auth_verify_email(text, timestamptz)",
    "auth_reset_password(text, text, timestamptz)",
    "rate_limit_hit(text, integer, integer, timestamptz)",
    "enqueue_mail(text, uuid, text, jsonb)",
)
OWNER_ONLY_FUNCTIONS = ("mail_outbox_defer()", "auth_purge_expired(timestamptz)")
NEW_TABLES = ("refresh_token_history", "rate_limits", "mail_outbox")


def _procrastinate_schema() -> str:
    return (resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")


def upgrade() -> None:
    # procrastinate's tables and functions, in a schema of their own.
    run_script("CREATE SCHEMA procrastinate")
    run_script(
        "SET LOCAL search_path = procrastinate, pg_catalog;\n"
        + _procrastinate_schema()
        + "\nRESET search_path;"
    )
    run_script(TABLES)
    run_script(FUNCTIONS)
    for fn in APP_FUNCTIONS + OWNER_ONLY_FUNCTIONS:
        run_script(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
    for fn in APP_FUNCTIONS:
        run_script(f"GRANT EXECUTE ON FUNCTION {fn} TO dreamer_app")
    for table in NEW_TABLES:
        run_script(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
            f" ALTER TABLE {table} FORCE ROW LEVEL SECURITY;"
            f" CREATE POLICY owner_all ON {table} TO dreamer_owner USING (true) WITH CHECK (true)"
        )
    # Staff may look at the outbox (delivery problems); nobody else reads it.
    run_script(
        "GRANT SELECT ON mail_outbox TO dreamer_app;"
        " CREATE POLICY app_select ON mail_outbox FOR SELECT TO dreamer_app"
        " USING ((SELECT app_is_staff()))"
    )


def downgrade() -> None:
    run_script(
        """
        DROP TRIGGER mail_outbox_defer ON mail_outbox;
        DROP FUNCTION auth_purge_expired(timestamptz), mail_outbox_defer(),
            enqueue_mail(text, uuid, text, jsonb),
            rate_limit_hit(text, integer, integer, timestamptz),
            auth_reset_password(text, text, timestamptz), auth_verify_email(text, timestamptz),
            auth_set_own_password(text), auth_own_password_hash(),
            auth_record_login(uuid, text, timestamptz),
            auth_rotate_session(text, text, integer, timestamptz),
            auth_create_session(uuid, text, inet, text, timestamptz),
            app_begin(uuid, uuid, text, text, text, text, text);
        DROP TABLE mail_outbox, rate_limits, refresh_token_history;
        DROP TYPE mail_status;
        DROP SCHEMA procrastinate CASCADE;
        """
    )
