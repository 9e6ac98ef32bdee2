"""Security: request-context helpers, grants, Row Level Security, the audit trail, auth lookups.

Revision ID: 0003_security
Revises: 0002_partitioned_logs
Create Date: 2026-11-30 04:20

The API logs in as ``dreamer_app``. It owns nothing and gets only the privileges listed here;
secret columns (password and token hashes) are left out of its column grants, so no query it
runs can read them: logins and token checks call the SECURITY DEFINER functions below.

Policies read the transaction-local settings the request dependency sets with
``set_config(..., true)``: ``app.user_id``, ``app.role``, ``app.visitor_id`` (plus ``app.ip``,
``app.user_agent`` and ``app.request_id`` for the audit trail). Staff rights need both the claimed
``app.role`` *and* the users table to agree (an active admin/super_admin with that id), so a bug
that sets the wrong role grants nothing. The owner gets explicit full-access policies: FORCE makes
even the owner subject to RLS, and the SECURITY DEFINER functions run as the owner.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0003_security"
down_revision = "0002_partitioned_logs"
branch_labels = None
depends_on = None

ALL_TABLES = (
    "users",
    "user_sessions",
    "services",
    "service_bookings",
    "leads",
    "lead_activities",
    "case_studies",
    "testimonials",
    "content_pages",
    "chat_conversations",
    "chat_messages",
    "newsletter_subscriptions",
    "audit_logs",
    "analytics_events",
)
# Tables whose changes the audit trigger records (all but the two log tables themselves), with
# the columns whose change alone is not worth an audit row.
AUDITED = {
    "users": (),
    "user_sessions": ("last_used_at",),
    "services": (),
    "service_bookings": (),
    "leads": (),
    "lead_activities": (),
    "case_studies": ("view_count",),
    "testimonials": (),
    "content_pages": ("view_count",),
    "chat_conversations": (),
    "chat_messages": (),
    "newsletter_subscriptions": (),
}
SECRET_COLUMNS = {
    "users": ("password_hash", "email_verification_token", "password_reset_token"),
    "user_sessions": ("session_token",),
    "newsletter_subscriptions": ("confirmation_token", "unsubscribe_token"),
}

HELPERS = """
CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE
RETURN nullif(current_setting('app.user_id', true), '')::uuid;

CREATE FUNCTION app_visitor_id() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
RETURN nullif(current_setting('app.visitor_id', true), '');

CREATE FUNCTION app_has_role(roles text[]) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT coalesce(
        current_setting('app.role', true) = ANY (roles)
        AND EXISTS (
            SELECT 1 FROM users u
            WHERE u.id = app_user_id()
              AND u.role::text = current_setting('app.role', true)
              AND u.status = 'active'
        ),
        false)
$$;

CREATE FUNCTION app_is_staff() RETURNS boolean LANGUAGE sql STABLE
RETURN app_has_role(ARRAY['admin', 'super_admin']);

CREATE FUNCTION app_is_super_admin() RETURNS boolean LANGUAGE sql STABLE
RETURN app_has_role(ARRAY['super_admin']);

CREATE FUNCTION app_is_privileged() RETURNS boolean LANGUAGE sql STABLE
RETURN pg_has_role(current_user, 'dreamer_owner', 'MEMBER');
"""

USERS_GUARD = """
-- What RLS cannot express (it never sees the old row): who may change which account fields.
CREATE FUNCTION users_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER users_guard BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_guard();
"""

AUDIT = """
CREATE FUNCTION audit_redact(doc jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN doc IS NULL THEN NULL ELSE coalesce(jsonb_object_agg(
        key,
        CASE WHEN key ~ '(^password$|_hash$|(^|_)token$|secret)' AND value <> 'null'::jsonb
             THEN '"[redacted]"'::jsonb ELSE value END), '{}'::jsonb) END
    FROM jsonb_each(doc)
$$;

CREATE FUNCTION audit_context() RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'request_id', nullif(current_setting('app.request_id', true), ''),
        'role', nullif(current_setting('app.role', true), ''),
        'visitor_id', app_visitor_id(),
        'db_user', session_user::text))
$$;

-- One trigger function for every audited table. Updates record only the changed columns;
-- an update that changes only ignorable columns (the trigger's arguments) writes nothing.
CREATE FUNCTION audit_row_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    old_doc jsonb;
    new_doc jsonb;
    ignored text[] := coalesce(TG_ARGV::text[], '{}') || ARRAY['updated_at'];
    changed text[];
    entity text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN old_doc := to_jsonb(OLD); END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN new_doc := to_jsonb(NEW); END IF;
    entity := coalesce(new_doc ->> 'id', old_doc ->> 'id');
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(n.key) INTO changed
        FROM jsonb_each(new_doc) n
        WHERE n.value IS DISTINCT FROM old_doc -> n.key AND n.key <> ALL (ignored);
        IF changed IS NULL THEN
            RETURN NULL;
        END IF;
        old_doc := (SELECT jsonb_object_agg(key, value) FROM jsonb_each(old_doc)
                    WHERE key = ANY (changed));
        new_doc := (SELECT jsonb_object_agg(key, value) FROM jsonb_each(new_doc)
                    WHERE key = ANY (changed));
    END IF;
    INSERT INTO audit_logs (user_id, action, entity_type, entity_id, old_values, new_values,
                            ip_address, user_agent, metadata)
    VALUES (app_user_id(), lower(TG_OP), TG_TABLE_NAME,
            CASE WHEN entity ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                 THEN entity::uuid END,
            audit_redact(old_doc), audit_redact(new_doc),
            nullif(current_setting('app.ip', true), '')::inet,
            left(nullif(current_setting('app.user_agent', true), ''), 1000),
            audit_context() || jsonb_strip_nulls(jsonb_build_object('entity_key', entity)));
    RETURN NULL;
END $$;

-- Events that are not row changes (a failed login, a logout) enter the trail through this.
CREATE FUNCTION record_audit_event(p_action text, p_entity_type text, p_entity_id uuid,
                                   p_metadata jsonb DEFAULT '{}')
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF p_action !~ '^[a-z_]+\\.[a-z_]+$' THEN
        RAISE EXCEPTION 'audit event actions look like domain.event, got %', p_action
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO audit_logs (user_id, action, entity_type, entity_id, ip_address, user_agent,
                            metadata)
    VALUES (app_user_id(), p_action, p_entity_type, p_entity_id,
            nullif(current_setting('app.ip', true), '')::inet,
            left(nullif(current_setting('app.user_agent', true), ''), 1000),
            audit_context() || audit_redact(coalesce(p_metadata, '{}')));
END $$;
"""

AUTH_LOOKUPS = """
CREATE FUNCTION auth_credentials(p_email text)
RETURNS TABLE (user_id uuid, password_hash text, role user_role, status user_status,
               email_verified boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT u.id, u.password_hash, u.role, u.status, u.email_verified
    FROM users u WHERE lower(u.email) = lower(btrim(p_email))
$$;

CREATE FUNCTION auth_session_by_token(p_token_hash text)
RETURNS TABLE (session_id uuid, user_id uuid, family_id uuid, expires_at timestamptz,
               last_used_at timestamptz, revoked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT s.id, s.user_id, s.family_id, s.expires_at, s.last_used_at, s.revoked_at
    FROM user_sessions s WHERE s.session_token = p_token_hash
$$;

-- Readiness: the app role may learn the schema version, not read Alembic's table.
CREATE FUNCTION schema_version() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT version_num FROM public.alembic_version LIMIT 1
$$;
"""

# (table, command, using, with check) for dreamer_app. Omitted commands are denied.
STAFF = "(SELECT app_is_staff())"
OWN = "user_id = (SELECT app_user_id())"
CONVERSATION_OWN = (
    "(user_id = (SELECT app_user_id()) OR "
    "(user_id IS NULL AND session_id = (SELECT app_visitor_id())))"
)
PUBLISHED = "(status = 'published' AND published_at <= now())"
POLICIES: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("users", "SELECT", f"id = (SELECT app_user_id()) OR {STAFF}", None),
    ("users", "INSERT", None, "true"),  # registration; users_guard limits the fields
    ("users", "UPDATE", f"id = (SELECT app_user_id()) OR {STAFF}", None),
    ("users", "DELETE", STAFF, None),
    ("user_sessions", "SELECT", f"{OWN} OR {STAFF}", None),
    ("user_sessions", "INSERT", None, f"{OWN} OR {STAFF}"),
    ("user_sessions", "UPDATE", f"{OWN} OR {STAFF}", None),
    ("user_sessions", "DELETE", f"{OWN} OR {STAFF}", None),
    ("services", "SELECT", f"is_active OR {STAFF}", None),
    ("services", "INSERT", None, STAFF),
    ("services", "UPDATE", STAFF, None),
    ("services", "DELETE", STAFF, None),
    ("service_bookings", "SELECT", f"{OWN} OR {STAFF}", None),
    ("service_bookings", "INSERT", None, f"{OWN} OR {STAFF}"),
    ("service_bookings", "UPDATE", f"{OWN} OR {STAFF}", None),
    ("service_bookings", "DELETE", STAFF, None),
    ("leads", "SELECT", f"{OWN} OR {STAFF}", None),
    ("leads", "INSERT", None, f"user_id IS NULL OR {OWN} OR {STAFF}"),
    ("leads", "UPDATE", STAFF, None),
    ("leads", "DELETE", STAFF, None),
    ("lead_activities", "SELECT", STAFF, None),
    ("lead_activities", "INSERT", None, STAFF),
    ("lead_activities", "UPDATE", STAFF, None),
    ("lead_activities", "DELETE", STAFF, None),
    ("case_studies", "SELECT", f"{PUBLISHED} OR {STAFF}", None),
    ("case_studies", "INSERT", None, STAFF),
    ("case_studies", "UPDATE", STAFF, None),
    ("case_studies", "DELETE", STAFF, None),
    ("testimonials", "SELECT", f"is_active OR {STAFF}", None),
    ("testimonials", "INSERT", None, STAFF),
    ("testimonials", "UPDATE", STAFF, None),
    ("testimonials", "DELETE", STAFF, None),
    ("content_pages", "SELECT", f"{PUBLISHED} OR {STAFF}", None),
    ("content_pages", "INSERT", None, STAFF),
    ("content_pages", "UPDATE", STAFF, None),
    ("content_pages", "DELETE", STAFF, None),
    ("chat_conversations", "SELECT", f"{CONVERSATION_OWN} OR {STAFF}", None),
    ("chat_conversations", "INSERT", None, f"{CONVERSATION_OWN} OR {STAFF}"),
    ("chat_conversations", "UPDATE", f"{CONVERSATION_OWN} OR {STAFF}", None),
    ("chat_conversations", "DELETE", f"{CONVERSATION_OWN} OR {STAFF}", None),
    # A message belongs to whoever may see its conversation (that subquery is itself under RLS).
    (
        "chat_messages",
        "SELECT",
        "EXISTS (SELECT 1 FROM chat_conversations c WHERE c.id = conversation_id)",
        None,
    ),
    (
        "chat_messages",
        "INSERT",
        None,
        "EXISTS (SELECT 1 FROM chat_conversations c WHERE c.id = conversation_id)",
    ),
    ("chat_messages", "UPDATE", STAFF, None),
    (
        "chat_messages",
        "DELETE",
        "EXISTS (SELECT 1 FROM chat_conversations c WHERE c.id = conversation_id)",
        None,
    ),
    ("newsletter_subscriptions", "SELECT", f"{OWN} OR {STAFF}", None),
    (
        "newsletter_subscriptions",
        "INSERT",
        None,
        f"(NOT is_active AND confirmed_at IS NULL AND (user_id IS NULL OR {OWN})) OR {STAFF}",
    ),
    ("newsletter_subscriptions", "UPDATE", f"{OWN} OR {STAFF}", None),
    ("newsletter_subscriptions", "DELETE", STAFF, None),
    ("audit_logs", "SELECT", f"{OWN} OR {STAFF}", None),
    ("analytics_events", "SELECT", STAFF, None),
    ("analytics_events", "INSERT", None, f"user_id IS NULL OR {OWN}"),
)

TABLE_GRANTS = {
    "audit_logs": "SELECT",
    "analytics_events": "SELECT, INSERT",
}


def _grant_sql(table: str) -> str:
    secrets = SECRET_COLUMNS.get(table)
    if secrets is None:
        return f"GRANT {TABLE_GRANTS.get(table, 'SELECT, INSERT, UPDATE, DELETE')} ON {table} TO dreamer_app;"
    excluded = ", ".join(f"'{c}'" for c in secrets)
    # Column grants for every non-secret column, computed from the catalogue at upgrade time.
    return f"""
DO $$
DECLARE cols text;
BEGIN
    SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) INTO cols
    FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name = '{table}'
      AND column_name NOT IN ({excluded});
    EXECUTE format('GRANT SELECT (%s), UPDATE (%s) ON {table} TO dreamer_app', cols, cols);
    EXECUTE 'GRANT INSERT, DELETE ON {table} TO dreamer_app';
END $$;"""


def _policy_sql(table: str, command: str, using: str | None, check: str | None) -> str:
    name = f"app_{command.lower()}"
    clauses = ""
    if using is not None:
        clauses += f" USING ({using})"
    if check is not None:
        clauses += f" WITH CHECK ({check})"
    return f"CREATE POLICY {name} ON {table} FOR {command} TO dreamer_app{clauses};"


def upgrade() -> None:
    run_script(HELPERS)
    run_script(USERS_GUARD)
    run_script(AUDIT)
    run_script(AUTH_LOOKUPS)
    run_script(
        "REVOKE ALL ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA public TO dreamer_app"
    )
    for fn in (
        "app_has_role(text[])",
        "audit_row_change()",
        "record_audit_event(text, text, uuid, jsonb)",
        "auth_credentials(text)",
        "auth_session_by_token(text)",
        "schema_version()",
    ):
        run_script(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
    run_script(
        "GRANT EXECUTE ON FUNCTION app_has_role(text[]), record_audit_event(text, text, uuid, jsonb),"
        " auth_credentials(text), auth_session_by_token(text), schema_version(),"
        " ensure_monthly_partitions(regclass, integer) TO dreamer_app"
    )
    for table in ALL_TABLES:
        run_script(_grant_sql(table))
        run_script(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        run_script(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        run_script(
            f"CREATE POLICY owner_all ON {table} TO dreamer_owner USING (true) WITH CHECK (true)"
        )
    for partition in ("audit_logs", "analytics_events"):
        run_script(
            f"""
            DO $$
            DECLARE part regclass;
            BEGIN
                FOR part IN SELECT inhrelid::regclass FROM pg_inherits
                            WHERE inhparent = '{partition}'::regclass LOOP
                    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', part);
                    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', part);
                END LOOP;
            END $$;"""
        )
    for policy in POLICIES:
        run_script(_policy_sql(*policy))
    for table, ignored in AUDITED.items():
        args = ", ".join(f"'{c}'" for c in ignored)
        run_script(
            f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION audit_row_change({args})"
        )


def downgrade() -> None:
    for table in AUDITED:
        run_script(f"DROP TRIGGER {table}_audit ON {table}")
    for table, command, _using, _check in POLICIES:
        run_script(f"DROP POLICY app_{command.lower()} ON {table}")
    for table in ALL_TABLES:
        run_script(f"DROP POLICY owner_all ON {table}")
        run_script(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        run_script(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        run_script(f"REVOKE ALL ON {table} FROM dreamer_app")
    run_script("REVOKE ALL ON SCHEMA public FROM dreamer_app")
    run_script(
        """
        DROP TRIGGER users_guard ON users;
        DROP FUNCTION users_guard(), schema_version(), auth_session_by_token(text), auth_credentials(text),
            record_audit_event(text, text, uuid, jsonb), audit_row_change(), audit_context(),
            audit_redact(jsonb), app_is_privileged(), app_is_super_admin(), app_is_staff(),
            app_has_role(text[]), app_visitor_id(), app_user_id();
        """
    )
