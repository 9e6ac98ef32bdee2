-- chat.sql — The AI chat assistant's conversations and messages.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- Retention: anonymous conversations (no account to keep them for) untouched since p_before go,
-- with their messages, and so do anonymous visitors' usage figures of hours before it (a
-- visitor id is all they hold). Returns the conversations removed. Run by the worker's hourly
-- maintenance (CHAT_RETENTION_DAYS).
CREATE OR REPLACE FUNCTION chat_purge_anonymous(p_before timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    removed integer;
BEGIN
    DELETE FROM chat_conversations c WHERE c.user_id IS NULL AND c.updated_at < p_before;
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM chat_usage u WHERE u.subject LIKE 'visitor:%' AND u.hour < p_before;
    RETURN removed;
END $$;

-- The chat quotas (dreamer.chat.service.ask): the caller (the account, else the visitor id of
-- the request's context) may send one more message if, in chat_usage, this clock hour holds
-- fewer than p_per_hour messages, the last 24 hourly buckets fewer than p_per_day messages and
-- fewer than p_tokens_per_day tokens (0: no limit). Allowed, the message is counted and 0
-- returned; refused, nothing is counted and the seconds until a message would be allowed are
-- returned. One caller's checks queue on a transaction lock, so concurrent messages cannot
-- both take the last one.
CREATE OR REPLACE FUNCTION chat_usage_hit(p_model text, p_per_hour integer, p_per_day integer,
                                          p_tokens_per_day bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    uid uuid := app_user_id();
    who text := coalesce('user:' || uid::text, 'visitor:' || app_visitor_id());
    this_hour timestamptz := date_trunc('hour', now());
    since timestamptz := date_trunc('hour', now()) - interval '23 hours';
    used_hour bigint;
    used_day bigint;
    used_tokens bigint;
    leaves timestamptz;
    wait double precision := 0;
BEGIN
    IF who IS NULL THEN
        RAISE EXCEPTION 'chat_usage_hit needs the caller''s account or visitor id';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('chat_usage:' || who, 0));
    SELECT coalesce(sum(u.messages) FILTER (WHERE u.hour = this_hour), 0),
           coalesce(sum(u.messages), 0),
           coalesce(sum(u.prompt_tokens + u.completion_tokens), 0)
      INTO used_hour, used_day, used_tokens
      FROM chat_usage u WHERE u.subject = who AND u.hour >= since;
    IF p_per_hour > 0 AND used_hour >= p_per_hour THEN
        wait := extract(epoch FROM this_hour + interval '1 hour' - clock_timestamp());
    END IF;
    IF p_per_day > 0 AND used_day >= p_per_day THEN
        -- the oldest hour whose leaving the window brings the count under the limit
        SELECT b.hour INTO leaves FROM (
            SELECT h.hour, sum(h.n) OVER (ORDER BY h.hour) AS upto
            FROM (SELECT u.hour, sum(u.messages) AS n FROM chat_usage u
                  WHERE u.subject = who AND u.hour >= since GROUP BY u.hour) h
        ) b WHERE used_day - b.upto < p_per_day ORDER BY b.hour LIMIT 1;
        wait := greatest(wait, extract(epoch FROM leaves + interval '24 hours' - clock_timestamp()));
    END IF;
    IF p_tokens_per_day > 0 AND used_tokens >= p_tokens_per_day THEN
        SELECT b.hour INTO leaves FROM (
            SELECT h.hour, sum(h.n) OVER (ORDER BY h.hour) AS upto
            FROM (SELECT u.hour, sum(u.prompt_tokens + u.completion_tokens) AS n FROM chat_usage u
                  WHERE u.subject = who AND u.hour >= since GROUP BY u.hour) h
        ) b WHERE used_tokens - b.upto < p_tokens_per_day ORDER BY b.hour LIMIT 1;
        wait := greatest(wait, extract(epoch FROM leaves + interval '24 hours' - clock_timestamp()));
    END IF;
    IF wait > 0 THEN
        RETURN greatest(1, ceil(wait))::integer;
    END IF;
    INSERT INTO chat_usage AS u (subject, user_id, hour, model, messages)
    VALUES (who, uid, this_hour, p_model, 1)
    ON CONFLICT (subject, hour, model) DO UPDATE SET messages = u.messages + 1;
    RETURN 0;
END $$;

GRANT EXECUTE ON FUNCTION chat_usage_hit(text, integer, integer, bigint) TO dreamer_app;

-- An answer's tokens, added to the caller's current hour (each count clamped to 0..1000000).
CREATE OR REPLACE FUNCTION chat_usage_add(p_model text, p_prompt integer, p_completion integer)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    uid uuid := app_user_id();
    who text := coalesce('user:' || uid::text, 'visitor:' || app_visitor_id());
BEGIN
    IF who IS NULL THEN
        RAISE EXCEPTION 'chat_usage_add needs the caller''s account or visitor id';
    END IF;
    INSERT INTO chat_usage AS u (subject, user_id, hour, model, prompt_tokens, completion_tokens)
    VALUES (who, uid, date_trunc('hour', now()), p_model,
            least(greatest(coalesce(p_prompt, 0), 0), 1000000),
            least(greatest(coalesce(p_completion, 0), 0), 1000000))
    ON CONFLICT (subject, hour, model) DO UPDATE
        SET prompt_tokens = u.prompt_tokens + EXCLUDED.prompt_tokens,
            completion_tokens = u.completion_tokens + EXCLUDED.completion_tokens;
END $$;

GRANT EXECUTE ON FUNCTION chat_usage_add(text, integer, integer) TO dreamer_app;

-- chat_conversations
ALTER TABLE chat_conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat_conversations FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON chat_conversations TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON chat_conversations FOR SELECT TO dreamer_app
    USING ((user_id = (SELECT app_user_id())) OR ((user_id IS NULL) AND (session_id = (SELECT app_visitor_id()))) OR (SELECT app_is_staff()));
CREATE POLICY app_insert ON chat_conversations FOR INSERT TO dreamer_app
    WITH CHECK ((user_id = (SELECT app_user_id())) OR ((user_id IS NULL) AND (session_id = (SELECT app_visitor_id()))) OR (SELECT app_is_staff()));
CREATE POLICY app_update ON chat_conversations FOR UPDATE TO dreamer_app
    USING ((user_id = (SELECT app_user_id())) OR ((user_id IS NULL) AND (session_id = (SELECT app_visitor_id()))) OR (SELECT app_is_staff()));
CREATE POLICY app_delete ON chat_conversations FOR DELETE TO dreamer_app
    USING ((user_id = (SELECT app_user_id())) OR ((user_id IS NULL) AND (session_id = (SELECT app_visitor_id()))) OR (SELECT app_is_staff()));
GRANT SELECT, INSERT, UPDATE, DELETE ON chat_conversations TO dreamer_app;
CREATE TRIGGER chat_conversations_audit
    AFTER INSERT OR DELETE OR UPDATE ON chat_conversations
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER chat_conversations_set_updated_at
    BEFORE UPDATE ON chat_conversations
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();

-- chat_messages
ALTER TABLE chat_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON chat_messages TO dreamer_owner
    USING (true)
    WITH CHECK (true);
-- A message is the caller's when its conversation is (under that table's policies). OFFSET 0
-- keeps the check a per-row probe of the conversation's primary key: without it PostgreSQL
-- may turn the EXISTS into a hashed subplan that reads every conversation the caller may see
-- (all of them, for staff) to answer for the few messages asked (tests/db/test_plans.py).
CREATE POLICY app_select ON chat_messages FOR SELECT TO dreamer_app
    USING (EXISTS (
        SELECT 1 FROM chat_conversations c WHERE c.id = chat_messages.conversation_id OFFSET 0
    ));
CREATE POLICY app_insert ON chat_messages FOR INSERT TO dreamer_app
    WITH CHECK (EXISTS (
        SELECT 1 FROM chat_conversations c WHERE c.id = chat_messages.conversation_id OFFSET 0
    ));
CREATE POLICY app_update ON chat_messages FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_delete ON chat_messages FOR DELETE TO dreamer_app
    USING (EXISTS (
        SELECT 1 FROM chat_conversations c WHERE c.id = chat_messages.conversation_id OFFSET 0
    ));
GRANT SELECT, INSERT, UPDATE, DELETE ON chat_messages TO dreamer_app;
CREATE TRIGGER chat_messages_audit
    AFTER INSERT OR DELETE OR UPDATE ON chat_messages
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();

-- chat_usage: read by staff (the usage report); written only by the functions above
ALTER TABLE chat_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON chat_usage TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON chat_usage FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT ON chat_usage TO dreamer_app;

-- chat_settings: read for every answer, written by staff
ALTER TABLE chat_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON chat_settings TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON chat_settings FOR SELECT TO dreamer_app
    USING (true);
CREATE POLICY app_insert ON chat_settings FOR INSERT TO dreamer_app
    WITH CHECK ((SELECT app_is_staff()));
CREATE POLICY app_update ON chat_settings FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()))
    WITH CHECK ((SELECT app_is_staff()));
CREATE POLICY app_delete ON chat_settings FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT, INSERT, UPDATE, DELETE ON chat_settings TO dreamer_app;
CREATE TRIGGER chat_settings_audit
    AFTER INSERT OR DELETE OR UPDATE ON chat_settings
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER chat_settings_set_updated_at
    BEFORE UPDATE ON chat_settings
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
