"""Privacy-first analytics: what an event keeps, the daily salt, the daily roll-ups.

Revision ID: 0021_analytics
Revises: 0020_chat_usage
Create Date: 2026-12-02 14:00

- ``analytics_events`` loses ``user_agent`` (a browser, OS and device class is kept instead)
  and gains the visitor's daily hash, the page path, the referrer's host and the UTM tags;
  ``ip_address`` may only hold a truncated network (an IPv4 /24 or IPv6 /48 at most), and
  ``session_id`` only a hash: the database refuses a raw address or identifier.
- ``analytics_salts``: one random salt per UTC day (owner only), deleted when the day is over,
  so a visitor hash cannot be recomputed afterwards and no one is followed across days.
- ``analytics_daily`` (events per day, type and path), ``analytics_daily_sources`` (visits per
  day and source) and ``analytics_visits`` (today's visitor hashes, to count each visitor once
  a day; emptied of past days): maintained by ``analytics_ingest()`` in the statement that
  writes the events, so the staff reports read a few rows per day whatever the event count.
- ``idx_lead_activities_type_time``: the lead funnel counts contact-form submissions by time.
"""

from __future__ import annotations

from dreamer.migrations.sql import run_script

revision = "0021_analytics"
down_revision = "0020_chat_usage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        """
        DROP INDEX IF EXISTS idx_analytics_events_session_id;
        ALTER TABLE analytics_events DROP COLUMN user_agent;
        UPDATE analytics_events SET ip_address = NULL, session_id = NULL;
        ALTER TABLE analytics_events
            ADD COLUMN visitor_hash text CHECK (visitor_hash ~ '^[0-9a-f]{32}$'),
            ADD COLUMN path text CHECK (length(path) BETWEEN 1 AND 500),
            ADD COLUMN referrer text CHECK (length(referrer) BETWEEN 1 AND 255),
            ADD COLUMN utm_source text CHECK (length(utm_source) BETWEEN 1 AND 100),
            ADD COLUMN utm_medium text CHECK (length(utm_medium) BETWEEN 1 AND 100),
            ADD COLUMN utm_campaign text CHECK (length(utm_campaign) BETWEEN 1 AND 100),
            ADD COLUMN browser text CHECK (length(browser) BETWEEN 1 AND 40),
            ADD COLUMN os text CHECK (length(os) BETWEEN 1 AND 40),
            ADD COLUMN device text CHECK (device IN ('desktop', 'mobile', 'tablet', 'bot', 'other')),
            ADD CONSTRAINT analytics_events_session_hashed
                CHECK (session_id ~ '^[0-9a-f]{32}$'),
            ADD CONSTRAINT analytics_events_network_only CHECK (
                ip_address IS NULL
                OR (ip_address = network(ip_address)::inet
                    AND masklen(ip_address) <= CASE family(ip_address) WHEN 4 THEN 24 ELSE 48 END)
            );

        CREATE TABLE analytics_salts (
            day date PRIMARY KEY,
            salt bytea NOT NULL CHECK (length(salt) >= 16)
        );

        CREATE TABLE analytics_daily (
            day date NOT NULL,
            event_type text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 100),
            path text NOT NULL DEFAULT '' CHECK (length(path) <= 500),
            events bigint NOT NULL DEFAULT 0 CHECK (events >= 0),
            PRIMARY KEY (day, event_type, path)
        );

        CREATE TABLE analytics_daily_sources (
            day date NOT NULL,
            referrer text NOT NULL DEFAULT '' CHECK (length(referrer) <= 255),
            utm_source text NOT NULL DEFAULT '' CHECK (length(utm_source) <= 100),
            utm_medium text NOT NULL DEFAULT '' CHECK (length(utm_medium) <= 100),
            utm_campaign text NOT NULL DEFAULT '' CHECK (length(utm_campaign) <= 100),
            visits bigint NOT NULL DEFAULT 0 CHECK (visits >= 0),
            PRIMARY KEY (day, referrer, utm_source, utm_medium, utm_campaign)
        );

        CREATE TABLE analytics_visits (
            day date NOT NULL,
            visitor_hash text NOT NULL CHECK (visitor_hash ~ '^[0-9a-f]{32}$'),
            PRIMARY KEY (day, visitor_hash)
        );

        -- the lead funnel counts contact-form submissions (inquiries) in a window
        CREATE INDEX idx_lead_activities_type_time ON lead_activities (activity_type, created_at);
        """
    )


def downgrade() -> None:
    run_script(
        """
        DROP FUNCTION IF EXISTS analytics_ingest(jsonb, text, inet, text, text, text);
        DROP FUNCTION IF EXISTS analytics_retain(integer);
        DROP FUNCTION IF EXISTS analytics_lead_stages(timestamptz, timestamptz);
        DROP INDEX IF EXISTS idx_lead_activities_type_time;
        DROP TABLE IF EXISTS analytics_visits;
        DROP TABLE IF EXISTS analytics_daily_sources;
        DROP TABLE IF EXISTS analytics_daily;
        DROP TABLE IF EXISTS analytics_salts;
        ALTER TABLE analytics_events
            DROP CONSTRAINT IF EXISTS analytics_events_network_only,
            DROP CONSTRAINT IF EXISTS analytics_events_session_hashed,
            DROP COLUMN IF EXISTS visitor_hash,
            DROP COLUMN IF EXISTS path,
            DROP COLUMN IF EXISTS referrer,
            DROP COLUMN IF EXISTS utm_source,
            DROP COLUMN IF EXISTS utm_medium,
            DROP COLUMN IF EXISTS utm_campaign,
            DROP COLUMN IF EXISTS browser,
            DROP COLUMN IF EXISTS os,
            DROP COLUMN IF EXISTS device,
            ADD COLUMN user_agent text CHECK (length(user_agent) <= 1000);
        CREATE INDEX idx_analytics_events_session_id ON analytics_events (session_id);
        -- the direct insert the earlier definitions allowed (their downgrades drop it)
        CREATE POLICY app_insert ON analytics_events FOR INSERT TO dreamer_app
            WITH CHECK ((user_id IS NULL) OR (user_id = (SELECT app_user_id())));
        GRANT INSERT ON analytics_events TO dreamer_app;
        """
    )
