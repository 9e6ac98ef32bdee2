"""Daily roll-ups of the business figures the dashboard and the lead funnel report.

Revision ID: 0023_report_rollups
Revises: 0022_gdpr
Create Date: 2026-12-03 08:00

The dashboard (new accounts, leads, bookings, revenue) and the lead funnel (contact forms,
leads, booked, converted per source) counted rows of users, leads, lead_activities and
service_bookings on every call, so their cost grew with the tables (p95 at 10x the data was
2.4x and 3.1x). They now read one row per day:

- ``report_daily``: per UTC day, accounts made, bookings made, contact forms sent (inquiries of
  website leads);
- ``report_daily_leads``: per day the lead was made and its source, the leads, those whose
  person booked a consultation, those converted;
- ``report_daily_revenue``: per day of the meeting and service, completed bookings and their
  minutes (the price is applied when read, so a price change shows as it did before);
- ``report_stale``: the days whose figures changed since they were computed. Statement
  triggers (``db/sql/analytics.sql``) append a row per day a write touched, without waiting on
  anyone; ``report_refresh()``, called by the reports before they read and by the worker's
  maintenance, recomputes those days from the tables.

A day is recomputed rather than adjusted by a delta (as ``lead_rollup`` is) because whether a
lead's person "booked" depends on bookings made later, under an account or an address matched
at the time; recomputing a day from the truth needs no per-lead state and cannot drift.

Every day that has data is marked stale here; the first report or maintenance run after the
upgrade computes them all (one pass over the tables).
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0023_report_rollups"
down_revision = "0022_gdpr"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        """
        DROP FUNCTION IF EXISTS analytics_lead_stages(timestamptz, timestamptz);

        CREATE TABLE report_daily (
            day date PRIMARY KEY,
            new_users integer NOT NULL DEFAULT 0 CHECK (new_users >= 0),
            bookings integer NOT NULL DEFAULT 0 CHECK (bookings >= 0),
            forms integer NOT NULL DEFAULT 0 CHECK (forms >= 0)
        );
        CREATE TABLE report_daily_leads (
            day date NOT NULL,
            source lead_source NOT NULL,
            leads integer NOT NULL DEFAULT 0 CHECK (leads >= 0),
            booked integer NOT NULL DEFAULT 0 CHECK (booked BETWEEN 0 AND leads),
            converted integer NOT NULL DEFAULT 0 CHECK (converted BETWEEN 0 AND leads),
            PRIMARY KEY (day, source)
        );
        CREATE TABLE report_daily_revenue (
            day date NOT NULL,
            service_id uuid NOT NULL,
            completed integer NOT NULL DEFAULT 0 CHECK (completed >= 0),
            minutes bigint NOT NULL DEFAULT 0 CHECK (minutes >= 0),
            PRIMARY KEY (day, service_id)
        );
        CREATE TABLE report_stale (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            day date NOT NULL
        );

        INSERT INTO report_stale (day)
        SELECT DISTINCT d FROM (
            SELECT (created_at AT TIME ZONE 'UTC')::date FROM users
            UNION SELECT (created_at AT TIME ZONE 'UTC')::date FROM leads
            UNION SELECT (created_at AT TIME ZONE 'UTC')::date FROM service_bookings
            UNION SELECT (scheduled_at AT TIME ZONE 'UTC')::date FROM service_bookings
            UNION SELECT (created_at AT TIME ZONE 'UTC')::date FROM lead_activities
                  WHERE activity_type = 'inquiry'
        ) AS t(d)
        ORDER BY d;
        """
    )


def downgrade() -> None:
    run_script(
        """
        DROP FUNCTION IF EXISTS report_refresh();
        -- with their triggers
        DROP FUNCTION IF EXISTS report_stale_users() CASCADE;
        DROP FUNCTION IF EXISTS report_stale_leads() CASCADE;
        DROP FUNCTION IF EXISTS report_stale_activities() CASCADE;
        DROP FUNCTION IF EXISTS report_stale_bookings() CASCADE;
        DROP FUNCTION IF EXISTS report_stale_bookings_of(date[], uuid[]);
        DROP FUNCTION IF EXISTS report_stale_all();
        DROP TABLE IF EXISTS report_stale;
        DROP TABLE IF EXISTS report_daily_revenue;
        DROP TABLE IF EXISTS report_daily_leads;
        DROP TABLE IF EXISTS report_daily;
        """
    )
