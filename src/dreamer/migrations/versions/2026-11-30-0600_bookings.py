"""Catalogue and bookings: slug aliases, availability rules, booked ranges, lead timeline.

Revision ID: 0005_bookings
Revises: 0004_auth
Create Date: 2026-11-30 06:00

Availability is computed in Python from ``availability_settings`` (one row), date exceptions
and the booked ranges. Clients may not see each other's bookings, so the booked time ranges come
from ``booked_ranges()``, a SECURITY DEFINER function that returns times and nothing else.
A trigger writes a ``lead_activities`` row for every booking change of a user who came in as a
lead, whoever made the change.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0005_bookings"
down_revision = "0004_auth"
branch_labels = None
depends_on = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"

UPGRADE = f"""
ALTER TABLE services ADD COLUMN previous_slugs text[] NOT NULL DEFAULT '{{}}';
CREATE INDEX idx_services_previous_slugs ON services USING gin (previous_slugs);

CREATE TABLE availability_settings (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    time_zone text NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) <= 64),
    weekly_hours jsonb NOT NULL DEFAULT
        '{{"1": [["09:00", "17:00"]], "2": [["09:00", "17:00"]], "3": [["09:00", "17:00"]],
          "4": [["09:00", "17:00"]], "5": [["09:00", "17:00"]], "6": [], "7": []}}'
        CHECK (jsonb_typeof(weekly_hours) = 'object'),
    slot_minutes integer NOT NULL DEFAULT 30 CHECK (slot_minutes BETWEEN 5 AND 240),
    min_notice_minutes integer NOT NULL DEFAULT 1440 CHECK (min_notice_minutes >= 0),
    horizon_days integer NOT NULL DEFAULT 60 CHECK (horizon_days BETWEEN 1 AND 730),
    buffer_minutes integer NOT NULL DEFAULT 15 CHECK (buffer_minutes BETWEEN 0 AND 240),
    cancel_cutoff_minutes integer NOT NULL DEFAULT 1440 CHECK (cancel_cutoff_minutes >= 0),
    reminder_minutes integer NOT NULL DEFAULT 1440 CHECK (reminder_minutes >= 0),
    metadata jsonb NOT NULL DEFAULT '{{}}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO availability_settings DEFAULT VALUES;

CREATE TABLE availability_exceptions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    date date NOT NULL,
    is_closed boolean NOT NULL DEFAULT true,
    hours jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(hours) = 'array'),
    reason text CHECK (length(reason) <= 500),
    metadata jsonb NOT NULL DEFAULT '{{}}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT availability_exceptions_date_key UNIQUE (date),
    CONSTRAINT availability_exceptions_open_has_hours
        CHECK (is_closed OR jsonb_array_length(hours) > 0)
);

CREATE TRIGGER availability_settings_set_updated_at BEFORE UPDATE ON availability_settings
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER availability_exceptions_set_updated_at BEFORE UPDATE ON availability_exceptions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER availability_settings_audit AFTER INSERT OR UPDATE OR DELETE
    ON availability_settings FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER availability_exceptions_audit AFTER INSERT OR UPDATE OR DELETE
    ON availability_exceptions FOR EACH ROW EXECUTE FUNCTION audit_row_change();

ALTER TABLE availability_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE availability_settings FORCE ROW LEVEL SECURITY;
ALTER TABLE availability_exceptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE availability_exceptions FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON availability_settings TO dreamer_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON availability_exceptions TO dreamer_owner
    USING (true) WITH CHECK (true);
GRANT SELECT, UPDATE ON availability_settings TO dreamer_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON availability_exceptions TO dreamer_app;
CREATE POLICY app_select ON availability_settings FOR SELECT TO dreamer_app USING (true);
CREATE POLICY app_update ON availability_settings FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_select ON availability_exceptions FOR SELECT TO dreamer_app USING (true);
CREATE POLICY app_insert ON availability_exceptions FOR INSERT TO dreamer_app
    WITH CHECK ((SELECT app_is_staff()));
CREATE POLICY app_update ON availability_exceptions FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_delete ON availability_exceptions FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));

-- Busy time only: no ids, no people.
CREATE FUNCTION booked_ranges(p_from timestamptz, p_to timestamptz, p_except uuid DEFAULT NULL)
RETURNS TABLE (starts timestamptz, ends timestamptz)
LANGUAGE sql STABLE {DEFINER} AS $$
    SELECT lower(r), upper(r)
    FROM (SELECT booking_range(scheduled_at, duration_minutes, buffer_minutes) AS r, id
          FROM service_bookings
          WHERE status IN ('pending', 'confirmed')
            AND booking_range(scheduled_at, duration_minutes, buffer_minutes)
                && tstzrange(p_from, p_to)) b
    WHERE p_except IS NULL OR b.id <> p_except
    ORDER BY 1
$$;
REVOKE ALL ON FUNCTION booked_ranges(timestamptz, timestamptz, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION booked_ranges(timestamptz, timestamptz, uuid) TO dreamer_app;

-- Bookings of a user who came in as a lead show up on that lead's timeline.
CREATE FUNCTION booking_lead_activity() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    what text;
BEGIN
    IF NEW.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        what := 'booking_requested';
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        what := 'booking_' || NEW.status::text;
    ELSIF NEW.scheduled_at IS DISTINCT FROM OLD.scheduled_at THEN
        what := 'booking_rescheduled';
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO lead_activities (lead_id, user_id, activity_type, description, metadata)
    SELECT l.id, app_user_id(), what,
           format('Consultation %s for %s', replace(what, 'booking_', ''),
                  to_char(NEW.scheduled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')),
           jsonb_build_object('booking_id', NEW.id, 'service_id', NEW.service_id,
                              'status', NEW.status, 'scheduled_at', NEW.scheduled_at)
    FROM leads l WHERE l.user_id = NEW.user_id;
    RETURN NULL;
END $$;
CREATE TRIGGER service_bookings_lead_activity AFTER INSERT OR UPDATE ON service_bookings
    FOR EACH ROW EXECUTE FUNCTION booking_lead_activity();

-- Exactly-once reminders: claiming sets reminder_sent in the same statement, so two workers
-- running at once can never both claim one booking.
CREATE FUNCTION claim_due_reminders(p_now timestamptz)
RETURNS TABLE (booking_id uuid, user_id uuid)
LANGUAGE sql {DEFINER} AS $$
    UPDATE service_bookings b
    SET reminder_sent = true, reminder_sent_at = p_now
    FROM availability_settings s
    WHERE b.status = 'confirmed' AND NOT b.reminder_sent
      AND b.scheduled_at > p_now
      AND b.scheduled_at <= p_now + make_interval(mins => s.reminder_minutes)
    RETURNING b.id, b.user_id
$$;
REVOKE ALL ON FUNCTION claim_due_reminders(timestamptz) FROM PUBLIC;
"""

DOWNGRADE = """
DROP FUNCTION claim_due_reminders(timestamptz);
DROP TRIGGER service_bookings_lead_activity ON service_bookings;
DROP FUNCTION booking_lead_activity();
DROP FUNCTION booked_ranges(timestamptz, timestamptz, uuid);
DROP TABLE availability_exceptions, availability_settings;
DROP INDEX idx_services_previous_slugs;
ALTER TABLE services DROP COLUMN previous_slugs;
"""


def upgrade() -> None:
    run_script(UPGRADE)


def downgrade() -> None:
    run_script(DOWNGRADE)
