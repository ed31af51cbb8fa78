-- Alerts to Support: where they go (one row; the Slack URL and the JSON webhook's signing secret
-- sealed under CLEARANCE_SECRET_KEY), each alert raised, and one group per thing alerted about so
-- a repeat within the hour is counted on the alert already sent instead of sent again.
CREATE TABLE alert_settings (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    slack_url       TEXT,
    webhook_url     TEXT,
    webhook_secret  TEXT,
    drift_threshold BIGINT NOT NULL DEFAULT 10,
    updated_by      BIGINT REFERENCES users(id),
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE alerts (
    id         BIGSERIAL PRIMARY KEY,
    group_key  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    summary    TEXT NOT NULL,
    details    TEXT NOT NULL,
    repeats    BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX alerts_recent ON alerts (created_at);

CREATE TABLE alert_groups (
    group_key    TEXT PRIMARY KEY,
    window_start TIMESTAMPTZ NOT NULL,
    alert_id     BIGINT REFERENCES alerts(id) ON DELETE SET NULL
);
