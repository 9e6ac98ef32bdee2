-- catalog.sql — The service catalogue.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- services
ALTER TABLE services ENABLE ROW LEVEL SECURITY;
ALTER TABLE services FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON services TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON services FOR SELECT TO dreamer_app
    USING (is_active OR (SELECT app_is_staff()));
CREATE POLICY app_insert ON services FOR INSERT TO dreamer_app
    WITH CHECK ((SELECT app_is_staff()));
CREATE POLICY app_update ON services FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_delete ON services FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT, INSERT, UPDATE, DELETE ON services TO dreamer_app;
CREATE TRIGGER services_audit
    AFTER INSERT OR DELETE OR UPDATE ON services
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change('search_vector');
CREATE TRIGGER services_cache_touch
    AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON services
    FOR EACH STATEMENT
    EXECUTE FUNCTION cache_touch('services');
CREATE TRIGGER services_set_updated_at
    BEFORE UPDATE ON services
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
