-- chat.sql — The AI chat assistant's conversations and messages.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- Retention: anonymous conversations (no account to keep them for) untouched since p_before go,
-- with their messages. Run by the worker's hourly maintenance (CHAT_RETENTION_DAYS).
CREATE OR REPLACE FUNCTION chat_purge_anonymous(p_before timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    removed integer;
BEGIN
    DELETE FROM chat_conversations c WHERE c.user_id IS NULL AND c.updated_at < p_before;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END $$;

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
CREATE POLICY app_select ON chat_messages FOR SELECT TO dreamer_app
    USING (EXISTS (SELECT 1 FROM chat_conversations c WHERE c.id = chat_messages.conversation_id));
CREATE POLICY app_insert ON chat_messages FOR INSERT TO dreamer_app
    WITH CHECK (EXISTS (SELECT 1 FROM chat_conversations c WHERE c.id = chat_messages.conversation_id));
CREATE POLICY app_update ON chat_messages FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_delete ON chat_messages FOR DELETE TO dreamer_app
    USING (EXISTS (SELECT 1 FROM chat_conversations c WHERE c.id = chat_messages.conversation_id));
GRANT SELECT, INSERT, UPDATE, DELETE ON chat_messages TO dreamer_app;
CREATE TRIGGER chat_messages_audit
    AFTER INSERT OR DELETE OR UPDATE ON chat_messages
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();
