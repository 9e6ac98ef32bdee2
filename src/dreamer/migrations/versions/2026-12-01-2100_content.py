"""Content publishing: a publishing window, revisions, slug redirects, search, view counts.

Revision ID: 0017_content
Revises: 0016_lead_list_order
Create Date: 2026-12-01 21:00

- Pages, case studies and testimonials share one workflow: ``status`` (draft, published,
  archived), ``published_at`` (a future one schedules) and an optional ``expires_at``. They are
  public while ``status = 'published' AND published_at <= now() AND (expires_at IS NULL OR
  expires_at > now())``: scheduling is a query condition, not a cron job. Testimonials had
  ``is_active`` instead: active ones become published (at their creation), inactive ones
  archived.
- Case studies gain SEO fields (meta title, description, keywords); pages a canonical URL.
- ``content_revisions``: a full snapshot of every save (who, when), written by a trigger.
- ``content_redirects``: a former slug of a page or case study, resolved with a 301.
- ``search_vector``: a weighted tsvector (English stemming) per searchable table, generated from
  the row, with a GIN index.
- ``content_views``: views per item and day, added in batches by each worker, instead of a hot
  ``view_count`` on the content row itself (dropped: nothing read it).
- Cache topic ``content``: the public reads of all of this (and the sitemap and search, which
  also cover services).
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0017_content"
down_revision = "0016_lead_list_order"
branch_labels = None
depends_on = None

# The block texts of a page (dreamer.content.blocks): every member of each block but those that
# carry no prose.
PAGE_TEXT = (
    "jsonb_path_query_array(content, "
    '\'lax $.blocks[*].keyvalue() ? (@.key != "type" && @.key != "href" && @.key != "src"'
    ' && @.key != "level" && @.key != "style").value\')'
)


def upgrade() -> None:
    run_script(
        f"""
        DROP POLICY IF EXISTS app_select ON testimonials;
        ALTER TABLE testimonials
            ADD COLUMN status content_status NOT NULL DEFAULT 'draft',
            ADD COLUMN published_at timestamptz,
            ADD COLUMN expires_at timestamptz,
            ADD COLUMN author_id uuid REFERENCES users (id) ON DELETE SET NULL;
        UPDATE testimonials
            SET status = CASE WHEN is_active THEN 'published' ELSE 'archived' END::content_status,
                published_at = CASE WHEN is_active THEN created_at END;
        ALTER TABLE testimonials
            DROP COLUMN is_active,
            ADD CONSTRAINT testimonials_published_has_date
                CHECK (status <> 'published' OR published_at IS NOT NULL),
            ADD CONSTRAINT testimonials_expires_after_publish
                CHECK (expires_at IS NULL OR published_at IS NULL OR expires_at > published_at),
            ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english'::regconfig,
                    client_name || ' ' || coalesce(client_company, '')), 'A')
                || setweight(to_tsvector('english'::regconfig, content), 'C')
            ) STORED;
        CREATE INDEX idx_testimonials_status ON testimonials (status, published_at DESC);
        CREATE INDEX idx_testimonials_expires_at ON testimonials (status, expires_at);
        CREATE INDEX idx_testimonials_author_id ON testimonials (author_id);
        CREATE INDEX idx_testimonials_search ON testimonials USING gin (search_vector);

        ALTER TABLE case_studies
            DROP COLUMN view_count,
            ADD COLUMN expires_at timestamptz,
            ADD COLUMN meta_title text CHECK (length(meta_title) <= 300),
            ADD COLUMN meta_description text CHECK (length(meta_description) <= 1000),
            ADD COLUMN meta_keywords text CHECK (length(meta_keywords) <= 1000),
            ADD CONSTRAINT case_studies_expires_after_publish
                CHECK (expires_at IS NULL OR published_at IS NULL OR expires_at > published_at),
            ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english'::regconfig, title), 'A')
                || setweight(to_tsvector('english'::regconfig,
                    coalesce(client_name, '') || ' ' || coalesce(industry, '') || ' '
                    || coalesce(meta_description, '')), 'B')
                || setweight(jsonb_to_tsvector('english'::regconfig, technologies, '["string"]'),
                    'B')
                || setweight(to_tsvector('english'::regconfig,
                    coalesce(challenge, '') || ' ' || coalesce(solution, '') || ' '
                    || coalesce(results, '')), 'C')
            ) STORED;
        CREATE INDEX idx_case_studies_expires_at ON case_studies (status, expires_at);
        CREATE INDEX idx_case_studies_search ON case_studies USING gin (search_vector);
        CREATE INDEX idx_case_studies_public_order ON case_studies (sort_order, published_at DESC)
            WHERE status = 'published';

        ALTER TABLE content_pages
            DROP COLUMN view_count,
            ADD COLUMN expires_at timestamptz,
            ADD COLUMN canonical_url text CHECK (length(canonical_url) <= 2000),
            ADD CONSTRAINT content_pages_expires_after_publish
                CHECK (expires_at IS NULL OR published_at IS NULL OR expires_at > published_at),
            ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english'::regconfig, title), 'A')
                || setweight(to_tsvector('english'::regconfig,
                    coalesce(meta_description, '') || ' ' || coalesce(meta_keywords, '')), 'B')
                || setweight(jsonb_to_tsvector('english'::regconfig, {PAGE_TEXT}, '["string"]'),
                    'C')
            ) STORED;
        CREATE INDEX idx_content_pages_expires_at ON content_pages (status, expires_at);
        CREATE INDEX idx_content_pages_type ON content_pages (page_type, published_at DESC)
            WHERE status = 'published';
        CREATE INDEX idx_content_pages_search ON content_pages USING gin (search_vector);

        ALTER TABLE services ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, name), 'A')
            || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')
            || setweight(jsonb_to_tsvector('english'::regconfig, features, '["string"]'), 'C')
        ) STORED;
        CREATE INDEX idx_services_search ON services USING gin (search_vector);

        CREATE TYPE content_kind AS ENUM ('page', 'case_study', 'testimonial');

        CREATE TABLE content_revisions (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            kind content_kind NOT NULL,
            entity_id uuid NOT NULL,
            revision integer NOT NULL CHECK (revision >= 1),
            snapshot jsonb NOT NULL CHECK (jsonb_typeof(snapshot) = 'object'),
            author_id uuid REFERENCES users (id) ON DELETE SET NULL,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            CONSTRAINT content_revisions_entity_revision_key UNIQUE (kind, entity_id, revision)
        );
        CREATE INDEX idx_content_revisions_author_id ON content_revisions (author_id);

        CREATE TABLE content_redirects (
            kind content_kind NOT NULL CHECK (kind <> 'testimonial'),
            old_slug text NOT NULL CHECK (length(old_slug) <= 300),
            entity_id uuid NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (kind, old_slug)
        );
        CREATE INDEX idx_content_redirects_entity ON content_redirects (kind, entity_id);

        CREATE TABLE content_views (
            kind content_kind NOT NULL,
            entity_id uuid NOT NULL,
            day date NOT NULL,
            views bigint NOT NULL CHECK (views >= 0),
            PRIMARY KEY (kind, entity_id, day)
        );

        INSERT INTO cache_topics (topic) VALUES ('content');

        -- what exists is revision 1 of itself
        INSERT INTO content_revisions (kind, entity_id, revision, snapshot, author_id, created_at)
            SELECT 'page', id, 1, to_jsonb(p) - ARRAY['search_vector', 'created_at', 'updated_at'],
                   author_id, updated_at FROM content_pages p;
        INSERT INTO content_revisions (kind, entity_id, revision, snapshot, author_id, created_at)
            SELECT 'case_study', id, 1,
                   to_jsonb(c) - ARRAY['search_vector', 'created_at', 'updated_at'],
                   author_id, updated_at FROM case_studies c;
        INSERT INTO content_revisions (kind, entity_id, revision, snapshot, author_id, created_at)
            SELECT 'testimonial', id, 1,
                   to_jsonb(t) - ARRAY['search_vector', 'created_at', 'updated_at'],
                   author_id, updated_at FROM testimonials t;
        """
    )


def downgrade() -> None:
    run_script(
        """
        DROP TRIGGER IF EXISTS services_cache_touch_content ON services;
        DROP TRIGGER IF EXISTS case_studies_cache_touch ON case_studies;
        DROP TRIGGER IF EXISTS testimonials_cache_touch ON testimonials;
        DROP TRIGGER IF EXISTS content_pages_cache_touch ON content_pages;
        DROP TRIGGER IF EXISTS case_studies_revise ON case_studies;
        DROP TRIGGER IF EXISTS testimonials_revise ON testimonials;
        DROP TRIGGER IF EXISTS content_pages_revise ON content_pages;
        DROP TRIGGER IF EXISTS case_studies_redirect ON case_studies;
        DROP TRIGGER IF EXISTS content_pages_redirect ON content_pages;
        DROP FUNCTION IF EXISTS content_revise();
        DROP FUNCTION IF EXISTS content_slug_redirect();
        DROP FUNCTION IF EXISTS content_views_add(content_kind, text[], integer[]);
        DROP FUNCTION IF EXISTS cache_versions();
        DROP FUNCTION IF EXISTS site_search(text, integer, integer, text, text);
        DELETE FROM cache_topics WHERE topic = 'content';
        DROP TABLE content_views, content_redirects, content_revisions;
        DROP TYPE content_kind;
        DROP INDEX idx_services_search;
        ALTER TABLE services DROP COLUMN search_vector;
        DROP POLICY IF EXISTS app_select ON content_pages;
        DROP POLICY IF EXISTS app_select ON case_studies;
        DROP POLICY IF EXISTS app_select ON testimonials;
        ALTER TABLE content_pages
            DROP COLUMN search_vector, DROP COLUMN canonical_url, DROP COLUMN expires_at,
            ADD COLUMN view_count integer NOT NULL DEFAULT 0 CHECK (view_count >= 0);
        DROP INDEX IF EXISTS idx_content_pages_type;
        ALTER TABLE case_studies
            DROP COLUMN search_vector, DROP COLUMN meta_keywords, DROP COLUMN meta_description,
            DROP COLUMN meta_title, DROP COLUMN expires_at,
            ADD COLUMN view_count integer NOT NULL DEFAULT 0 CHECK (view_count >= 0);
        DROP INDEX IF EXISTS idx_case_studies_public_order;
        ALTER TABLE testimonials ADD COLUMN is_active boolean NOT NULL DEFAULT true;
        UPDATE testimonials SET is_active = (status = 'published');
        ALTER TABLE testimonials
            DROP COLUMN search_vector, DROP COLUMN author_id, DROP COLUMN expires_at,
            DROP COLUMN published_at, DROP COLUMN status;
        CREATE INDEX idx_testimonials_active_sort ON testimonials (sort_order) WHERE is_active;
        -- the policies as the earlier revisions know them (their downgrades drop them)
        CREATE POLICY app_select ON content_pages FOR SELECT TO dreamer_app
            USING ((status = 'published' AND published_at <= now()) OR (SELECT app_is_staff()));
        CREATE POLICY app_select ON case_studies FOR SELECT TO dreamer_app
            USING ((status = 'published' AND published_at <= now()) OR (SELECT app_is_staff()));
        CREATE POLICY app_select ON testimonials FOR SELECT TO dreamer_app
            USING (is_active OR (SELECT app_is_staff()));
        """
    )
