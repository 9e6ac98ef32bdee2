-- content.sql — Case studies, testimonials and content pages: a publishing workflow whose
-- published rows are public while their window is open; revisions, slug redirects, view counts.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).
--
-- Public means status = 'published' AND published_at <= now() AND (expires_at IS NULL OR
-- expires_at > now()): a future published_at schedules, expires_at hides again, and neither
-- needs a job to run at that moment. The policies below state it; dreamer.content.repository
-- states it again in its public queries so that they use the indexes.

-- Every save of a page, case study or testimonial keeps a revision: the full row (without what
-- is derived from it) and who saved it. A save that changes nothing keeps none. The row's
-- deletion takes its revisions, redirects and view counts with it.
CREATE OR REPLACE FUNCTION content_revise() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    v_kind content_kind := TG_ARGV[0]::content_kind;
    snap jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM content_revisions r WHERE r.kind = v_kind AND r.entity_id = OLD.id;
        DELETE FROM content_redirects r WHERE r.kind = v_kind AND r.entity_id = OLD.id;
        DELETE FROM content_views v WHERE v.kind = v_kind AND v.entity_id = OLD.id;
        RETURN NULL;
    END IF;
    snap := to_jsonb(NEW) - ARRAY['search_vector', 'created_at', 'updated_at'];
    IF TG_OP = 'UPDATE'
       AND snap = to_jsonb(OLD) - ARRAY['search_vector', 'created_at', 'updated_at'] THEN
        RETURN NULL;
    END IF;
    -- The row lock this save holds serialises the saves of one item, so max + 1 is safe.
    INSERT INTO content_revisions (kind, entity_id, revision, snapshot, author_id)
    SELECT v_kind, NEW.id, coalesce(max(r.revision), 0) + 1, snap, app_user_id()
    FROM content_revisions r
    WHERE r.kind = v_kind AND r.entity_id = NEW.id;
    RETURN NULL;
END $$;

-- A page or case study renamed keeps its old slug as a redirect to it. A slug in use is never a
-- redirect (the item that takes it over, or takes it back, removes it), and redirects point at
-- an item, not at a slug: there is no chain to follow and no loop to make.
CREATE OR REPLACE FUNCTION content_slug_redirect() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    v_kind content_kind := TG_ARGV[0]::content_kind;
BEGIN
    DELETE FROM content_redirects r WHERE r.kind = v_kind AND r.old_slug = NEW.slug;
    IF TG_OP = 'UPDATE' AND OLD.slug IS DISTINCT FROM NEW.slug THEN
        INSERT INTO content_redirects (kind, old_slug, entity_id)
        VALUES (v_kind, OLD.slug, NEW.id)
        ON CONFLICT (kind, old_slug) DO UPDATE SET entity_id = EXCLUDED.entity_id, created_at = now();
    END IF;
    RETURN NULL;
END $$;

-- The workers' view counters, flushed in batches (dreamer.content.views): adds each count to
-- today's row of a public item found by its slug; unknown or non-public slugs count nothing,
-- and one call adds at most 100000 views per item.
CREATE OR REPLACE FUNCTION content_views_add(p_kind content_kind, p_slugs text[], p_counts integer[])
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    added integer;
BEGIN
    WITH counted AS (
        SELECT u.slug, least(sum(greatest(u.n, 0)), 100000) AS n
        FROM unnest(p_slugs, p_counts) AS u(slug, n)
        GROUP BY u.slug
    ), found AS (
        SELECT p.id, c.n FROM counted c JOIN content_pages p ON p.slug = c.slug
        WHERE p_kind = 'page' AND p.status = 'published' AND p.published_at <= now()
          AND (p.expires_at IS NULL OR p.expires_at > now())
        UNION ALL
        SELECT s.id, c.n FROM counted c JOIN case_studies s ON s.slug = c.slug
        WHERE p_kind = 'case_study' AND s.status = 'published' AND s.published_at <= now()
          AND (s.expires_at IS NULL OR s.expires_at > now())
    )
    INSERT INTO content_views AS v (kind, entity_id, day, views)
    SELECT p_kind, f.id, (now() AT TIME ZONE 'UTC')::date, f.n FROM found f WHERE f.n > 0
    ON CONFLICT (kind, entity_id, day) DO UPDATE SET views = v.views + EXCLUDED.views;
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN added;
END $$;

GRANT EXECUTE ON FUNCTION content_views_add(content_kind, text[], integer[]) TO dreamer_app;

-- What the public-read cache compares every second (dreamer.db.cache): each topic's version,
-- and for content also the last moment an item's window opened or closed. A scheduled page
-- going live (or expiring) writes nothing, so that moment is what moves the version then.
CREATE OR REPLACE FUNCTION cache_versions() RETURNS TABLE (topic text, version text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT c.topic, c.version::text || CASE WHEN c.topic = 'content' THEN ':' || coalesce(
        extract(epoch FROM greatest(
            (SELECT max(published_at) FROM content_pages WHERE status = 'published' AND published_at <= now()),
            (SELECT max(expires_at) FROM content_pages WHERE status = 'published' AND expires_at <= now()),
            (SELECT max(published_at) FROM case_studies WHERE status = 'published' AND published_at <= now()),
            (SELECT max(expires_at) FROM case_studies WHERE status = 'published' AND expires_at <= now()),
            (SELECT max(published_at) FROM testimonials WHERE status = 'published' AND published_at <= now()),
            (SELECT max(expires_at) FROM testimonials WHERE status = 'published' AND expires_at <= now())
        ))::text, '') ELSE '' END
    FROM cache_topics c
$$;

GRANT EXECUTE ON FUNCTION cache_versions() TO dreamer_app;

-- The site search (dreamer.content.repository.search): published pages, case studies, active
-- services and testimonials matching the tsquery, best first, the shown page with highlights
-- between p_start and p_stop. It runs as the owner because under the app role's policies,
-- which read columns, PostgreSQL may not use the non-leakproof @@ as an index condition: every
-- search would read every row. It states the public window itself and returns only public
-- content, for every caller alike.
CREATE OR REPLACE FUNCTION site_search(p_query text, p_limit integer, p_offset integer,
                                       p_start text, p_stop text)
RETURNS TABLE (kind text, slug text, title text, rank real, total bigint,
               title_highlight text, highlight text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
with hits as (
    select 'page' as kind, p.id, p.title, ts_rank(p.search_vector, to_tsquery('english', p_query)) as rank
    from content_pages p where p.search_vector @@ to_tsquery('english', p_query) and p.status = 'published' and p.published_at <= now() and (p.expires_at is null or p.expires_at > now())
    union all
    select 'case_study', c.id, c.title, ts_rank(c.search_vector, to_tsquery('english', p_query))
    from case_studies c where c.search_vector @@ to_tsquery('english', p_query) and c.status = 'published' and c.published_at <= now() and (c.expires_at is null or c.expires_at > now())
    union all
    select 'service', s.id, s.name, ts_rank(s.search_vector, to_tsquery('english', p_query))
    from services s where s.search_vector @@ to_tsquery('english', p_query) and s.is_active
    union all
    select 'testimonial', t.id, t.client_name, ts_rank(t.search_vector, to_tsquery('english', p_query))
    from testimonials t where t.search_vector @@ to_tsquery('english', p_query) and t.status = 'published' and t.published_at <= now() and (t.expires_at is null or t.expires_at > now())
),
best as (
    select *, count(*) over () as total from hits order by rank desc, title limit least(p_limit, 50) offset greatest(p_offset, 0)
),
shown as (
    select b.kind, b.title, b.rank, b.total,
           coalesce(p.slug, c.slug, s.slug, b.id::text) as slug,
           case b.kind
               when 'page' then concat_ws(' ', p.meta_description, regexp_replace(coalesce((select string_agg(x #>> '{}', ' ') from jsonb_path_query(p.content, 'strict $.blocks[*].keyvalue() ? (@.key != "type" && @.key != "href" && @.key != "src" && @.key != "level" && @.key != "style").value.** ? (@.type() == "string")', '{}', true) as x), ''), '<[^>]*>', ' ', 'g'))
               when 'case_study' then concat_ws(' ', c.challenge, c.solution, c.results)
               when 'service' then coalesce(s.description, '')
               else t.content
           end as prose
    from best b
    left join content_pages p on b.kind = 'page' and p.id = b.id
    left join case_studies c on b.kind = 'case_study' and c.id = b.id
    left join services s on b.kind = 'service' and s.id = b.id
    left join testimonials t on b.kind = 'testimonial' and t.id = b.id
)
select kind, slug, title, rank, total,
       ts_headline('english', title, to_tsquery('english', p_query),
                   'HighlightAll=true, StartSel=' || p_start || ', StopSel=' || p_stop) as title_highlight,
       ts_headline('english', prose, to_tsquery('english', p_query),
                   'MaxFragments=2, MaxWords=24, MinWords=8, FragmentDelimiter=" … ", StartSel='
                   || p_start || ', StopSel=' || p_stop) as highlight
from shown
order by rank desc, title
$$;

GRANT EXECUTE ON FUNCTION site_search(text, integer, integer, text, text) TO dreamer_app;

-- Services feed the sitemap and the search as well.
CREATE TRIGGER services_cache_touch_content
    AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON services
    FOR EACH STATEMENT
    EXECUTE FUNCTION cache_touch('content');


-- case_studies
ALTER TABLE case_studies ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_studies FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON case_studies TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON case_studies FOR SELECT TO dreamer_app
    USING (((status = 'published'::content_status) AND (published_at <= now()) AND ((expires_at IS NULL) OR (expires_at > now()))) OR (SELECT app_is_staff()));
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
    EXECUTE FUNCTION audit_row_change('search_vector');
CREATE TRIGGER case_studies_set_updated_at
    BEFORE UPDATE ON case_studies
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER case_studies_revise
    AFTER INSERT OR DELETE OR UPDATE ON case_studies
    FOR EACH ROW
    EXECUTE FUNCTION content_revise('case_study');
CREATE TRIGGER case_studies_cache_touch
    AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON case_studies
    FOR EACH STATEMENT
    EXECUTE FUNCTION cache_touch('content');
CREATE TRIGGER case_studies_redirect
    AFTER INSERT OR UPDATE OF slug ON case_studies
    FOR EACH ROW
    EXECUTE FUNCTION content_slug_redirect('case_study');

-- testimonials
ALTER TABLE testimonials ENABLE ROW LEVEL SECURITY;
ALTER TABLE testimonials FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON testimonials TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON testimonials FOR SELECT TO dreamer_app
    USING (((status = 'published'::content_status) AND (published_at <= now()) AND ((expires_at IS NULL) OR (expires_at > now()))) OR (SELECT app_is_staff()));
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
    EXECUTE FUNCTION audit_row_change('search_vector');
CREATE TRIGGER testimonials_set_updated_at
    BEFORE UPDATE ON testimonials
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER testimonials_revise
    AFTER INSERT OR DELETE OR UPDATE ON testimonials
    FOR EACH ROW
    EXECUTE FUNCTION content_revise('testimonial');
CREATE TRIGGER testimonials_cache_touch
    AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON testimonials
    FOR EACH STATEMENT
    EXECUTE FUNCTION cache_touch('content');

-- content_pages
ALTER TABLE content_pages ENABLE ROW LEVEL SECURITY;
ALTER TABLE content_pages FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON content_pages TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON content_pages FOR SELECT TO dreamer_app
    USING (((status = 'published'::content_status) AND (published_at <= now()) AND ((expires_at IS NULL) OR (expires_at > now()))) OR (SELECT app_is_staff()));
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
    EXECUTE FUNCTION audit_row_change('search_vector');
CREATE TRIGGER content_pages_set_updated_at
    BEFORE UPDATE ON content_pages
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER content_pages_revise
    AFTER INSERT OR DELETE OR UPDATE ON content_pages
    FOR EACH ROW
    EXECUTE FUNCTION content_revise('page');
CREATE TRIGGER content_pages_cache_touch
    AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON content_pages
    FOR EACH STATEMENT
    EXECUTE FUNCTION cache_touch('content');
CREATE TRIGGER content_pages_redirect
    AFTER INSERT OR UPDATE OF slug ON content_pages
    FOR EACH ROW
    EXECUTE FUNCTION content_slug_redirect('page');

-- content_revisions: staff read them; only content_revise() writes them
ALTER TABLE content_revisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE content_revisions FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON content_revisions TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON content_revisions FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT ON content_revisions TO dreamer_app;

-- content_redirects: anyone may resolve one (the item it points at is still behind its own
-- policy); only content_slug_redirect() writes them
ALTER TABLE content_redirects ENABLE ROW LEVEL SECURITY;
ALTER TABLE content_redirects FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON content_redirects TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON content_redirects FOR SELECT TO dreamer_app
    USING (true);
GRANT SELECT ON content_redirects TO dreamer_app;

-- content_views: staff read them; only content_views_add() writes them
ALTER TABLE content_views ENABLE ROW LEVEL SECURITY;
ALTER TABLE content_views FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON content_views TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON content_views FOR SELECT TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT ON content_views TO dreamer_app;
