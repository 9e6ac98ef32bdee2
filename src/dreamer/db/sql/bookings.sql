-- bookings.sql — Consultation bookings: the status workflow, availability, free/busy and reminders.
--
-- The one current definition of these objects (see dreamer/db/definitions.py).

-- Minutes-only intervals do not depend on the time zone, so this is truly immutable and can
-- back the exclusion constraint (timestamptz + interval in general is only STABLE).
CREATE OR REPLACE FUNCTION booking_range(starts timestamptz, minutes integer, buffer integer)
RETURNS tstzrange LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN tstzrange(starts, starts + make_interval(mins => minutes + buffer), '[)');

-- The exclusion constraint evaluates it as the inserting role.
GRANT EXECUTE ON FUNCTION booking_range(timestamp with time zone, integer, integer) TO dreamer_app;

-- The one place that knows the booking workflow; the service layer checks first for a friendly
-- error, this trigger makes an illegal transition impossible whatever the caller.
CREATE OR REPLACE FUNCTION booking_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- Busy time only: no ids, no people.
CREATE OR REPLACE FUNCTION booked_ranges(p_from timestamptz, p_to timestamptz, p_except uuid DEFAULT NULL)
RETURNS TABLE (starts timestamptz, ends timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT lower(r), upper(r)
    FROM (SELECT booking_range(scheduled_at, duration_minutes, buffer_minutes) AS r, id
          FROM service_bookings
          WHERE status IN ('pending', 'confirmed')
            AND booking_range(scheduled_at, duration_minutes, buffer_minutes)
                && tstzrange(p_from, p_to)) b
    WHERE p_except IS NULL OR b.id <> p_except
    ORDER BY 1
$$;

GRANT EXECUTE ON FUNCTION booked_ranges(timestamp with time zone,timestamp with time zone,uuid) TO dreamer_app;

-- Bookings of a user who came in as a lead show up on that lead's timeline.
CREATE OR REPLACE FUNCTION booking_lead_activity() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
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

-- Exactly-once reminders: claiming sets reminder_sent in the same statement, so two workers
-- running at once can never both claim one booking.
CREATE OR REPLACE FUNCTION claim_due_reminders(p_now timestamptz)
RETURNS TABLE (booking_id uuid, user_id uuid)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    UPDATE service_bookings b
    SET reminder_sent = true, reminder_sent_at = p_now
    FROM availability_settings s
    WHERE b.status = 'confirmed' AND NOT b.reminder_sent
      AND b.scheduled_at > p_now
      AND b.scheduled_at <= p_now + make_interval(mins => s.reminder_minutes)
    RETURNING b.id, b.user_id
$$;

-- service_bookings
ALTER TABLE service_bookings ENABLE ROW LEVEL SECURITY;
ALTER TABLE service_bookings FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON service_bookings TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON service_bookings FOR SELECT TO dreamer_app
    USING ((user_id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
CREATE POLICY app_insert ON service_bookings FOR INSERT TO dreamer_app
    WITH CHECK ((user_id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
CREATE POLICY app_update ON service_bookings FOR UPDATE TO dreamer_app
    USING ((user_id = (SELECT app_user_id())) OR (SELECT app_is_staff()));
CREATE POLICY app_delete ON service_bookings FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT, INSERT, UPDATE, DELETE ON service_bookings TO dreamer_app;
CREATE TRIGGER service_bookings_audit
    AFTER INSERT OR DELETE OR UPDATE ON service_bookings
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER service_bookings_lead_activity
    AFTER INSERT OR UPDATE ON service_bookings
    FOR EACH ROW
    EXECUTE FUNCTION booking_lead_activity();
CREATE TRIGGER service_bookings_set_updated_at
    BEFORE UPDATE ON service_bookings
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER service_bookings_status_guard
    BEFORE UPDATE ON service_bookings
    FOR EACH ROW
    EXECUTE FUNCTION booking_status_guard();

-- availability_settings
ALTER TABLE availability_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE availability_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON availability_settings TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON availability_settings FOR SELECT TO dreamer_app
    USING (true);
CREATE POLICY app_update ON availability_settings FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT, UPDATE ON availability_settings TO dreamer_app;
CREATE TRIGGER availability_settings_audit
    AFTER INSERT OR DELETE OR UPDATE ON availability_settings
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER availability_settings_set_updated_at
    BEFORE UPDATE ON availability_settings
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();

-- availability_exceptions
ALTER TABLE availability_exceptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE availability_exceptions FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON availability_exceptions TO dreamer_owner
    USING (true)
    WITH CHECK (true);
CREATE POLICY app_select ON availability_exceptions FOR SELECT TO dreamer_app
    USING (true);
CREATE POLICY app_insert ON availability_exceptions FOR INSERT TO dreamer_app
    WITH CHECK ((SELECT app_is_staff()));
CREATE POLICY app_update ON availability_exceptions FOR UPDATE TO dreamer_app
    USING ((SELECT app_is_staff()));
CREATE POLICY app_delete ON availability_exceptions FOR DELETE TO dreamer_app
    USING ((SELECT app_is_staff()));
GRANT SELECT, INSERT, UPDATE, DELETE ON availability_exceptions TO dreamer_app;
CREATE TRIGGER availability_exceptions_audit
    AFTER INSERT OR DELETE OR UPDATE ON availability_exceptions
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER availability_exceptions_set_updated_at
    BEFORE UPDATE ON availability_exceptions
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
