-- content.sql — Case studies, testimonials and content pages: published rows are public.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- case_studies
ALTER TABLE case_studies ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_studies FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON case_studies TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON case_studies FOR SELECT TO dreamer_app
    USING (((status = 'published'::content_status) AND (published_at <= now())) OR (SELECT app_is_staff()));
CREATE POLICY app_insert ON case_studies FOR INSERT TO dreamer_app
    WITH CHECK ((SELECT app_is_staff()));
CREATE POLICY app_update ON case_studies FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_delete ON case_studies FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT, INSERT, UPDATE, DELETE ON case_studies TO dreamer_app;
CREATE TRIGGER case_studies_audit
    AFTER INSERT OR DELETE OR UPDATE ON case_studies
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change('view_count');
CREATE TRIGGER case_studies_set_updated_at
    BEFORE UPDATE ON case_studies
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();

-- testimonials
ALTER TABLE testimonials ENABLE ROW LEVEL SECURITY;
ALTER TABLE testimonials FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON testimonials TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON testimonials FOR SELECT TO dreamer_app
    USING (is_active OR (SELECT app_is_staff()));
CREATE POLICY app_insert ON testimonials FOR INSERT TO dreamer_app
    WITH CHECK ((SELECT app_is_staff()));
CREATE POLICY app_update ON testimonials FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_delete ON testimonials FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT, INSERT, UPDATE, DELETE ON testimonials TO dreamer_app;
CREATE TRIGGER testimonials_audit
    AFTER INSERT OR DELETE OR UPDATE ON testimonials
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER testimonials_set_updated_at
    BEFORE UPDATE ON testimonials
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();

-- content_pages
ALTER TABLE content_pages ENABLE ROW LEVEL SECURITY;
ALTER TABLE content_pages FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON content_pages TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON content_pages FOR SELECT TO dreamer_app
    USING (((status = 'published'::content_status) AND (published_at <= now())) OR (SELECT app_is_staff()));
CREATE POLICY app_insert ON content_pages FOR INSERT TO dreamer_app
    WITH CHECK ((SELECT app_is_staff()));
CREATE POLICY app_update ON content_pages FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_delete ON content_pages FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT, INSERT, UPDATE, DELETE ON content_pages TO dreamer_app;
CREATE TRIGGER content_pages_audit
    AFTER INSERT OR DELETE OR UPDATE ON content_pages
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change('view_count');
CREATE TRIGGER content_pages_set_updated_at
    BEFORE UPDATE ON content_pages
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
