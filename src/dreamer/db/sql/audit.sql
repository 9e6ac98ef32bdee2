-- audit.sql — The audit trail: one generic trigger function (attached to each business table in that
-- table's own file), explicit audit events, and who may read audit_logs.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

CREATE OR REPLACE FUNCTION audit_redact(doc jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN doc IS NULL THEN NULL ELSE coalesce(jsonb_object_agg(
        key,
        CASE WHEN key ~ '(^password$|_hash$|(^|_)token$|secret)' AND value <> 'null'::jsonb
             THEN '"[redacted]"'::jsonb ELSE value END), '{}'::jsonb) END
    FROM jsonb_each(doc)
$$;

CREATE OR REPLACE FUNCTION audit_context() RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'request_id', nullif(current_setting('app.request_id', true), ''),
        'role', app_role(),
        'visitor_id', app_visitor_id(),
        'db_user', session_user::text))
$$;

-- One trigger function for every audited table. Updates record only the changed columns;
-- an update that changes only ignorable columns (the trigger's arguments) writes nothing.
CREATE OR REPLACE FUNCTION audit_row_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    old_doc jsonb;
    new_doc jsonb;
    ignored text[] := coalesce(TG_ARGV::text[], '{}') || ARRAY['updated_at'];
    changed text[];
    entity text;
BEGIN
    -- Columns named by the trigger are never recorded (derived ones: a search vector).
    IF TG_OP IN ('UPDATE', 'DELETE') THEN old_doc := to_jsonb(OLD) - coalesce(TG_ARGV::text[], '{}'); END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN new_doc := to_jsonb(NEW) - coalesce(TG_ARGV::text[], '{}'); END IF;
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
CREATE OR REPLACE FUNCTION record_audit_event(p_action text, p_entity_type text, p_entity_id uuid,
                                   p_metadata jsonb DEFAULT '{}')
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF p_action !~ '^[a-z_]+\.[a-z_]+$' THEN
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

GRANT EXECUTE ON FUNCTION record_audit_event(text,text,uuid,jsonb) TO dreamer_app;

-- audit_logs
ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON audit_logs TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON audit_logs FOR SELECT TO dreamer_app
    USING ((user_id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
GRANT SELECT ON audit_logs TO dreamer_app;

-- Partitions made so far (ensure_monthly_partitions does the same for each new one): reached
-- directly rather than through audit_logs, they must not bypass its policies either.
DO $$
DECLARE part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', part);
    END LOOP;
END $$;
