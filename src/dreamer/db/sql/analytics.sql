-- analytics.sql — Privacy-friendly analytics events (monthly partitions).
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- analytics_events
ALTER TABLE analytics_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_events FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON analytics_events TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON analytics_events FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_insert ON analytics_events FOR INSERT TO dreamer_app
    WITH CHECK ((user_id IS NULL) OR (user_id = (SELECT app_user_id())));
GRANT SELECT, INSERT ON analytics_events TO dreamer_app;

-- Partitions made so far (ensure_monthly_partitions does the same for each new one): reached
-- directly rather than through analytics_events, they must not bypass its policies either.
DO $$
DECLARE part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'analytics_events'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', part);
    END LOOP;
END $$;
