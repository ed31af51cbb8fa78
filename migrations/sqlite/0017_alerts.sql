-- Alerts to Support: where they go (one row; the Slack URL and the JSON webhook's signing secret
-- sealed under CLEARANCE_SECRET_KEY), each alert raised, and one group per thing alerted about so
-- a repeat within the hour is counted on the alert already sent instead of sent again.
CREATE TABLE alert_settings (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    slack_url       TEXT,
    webhook_url     TEXT,
    webhook_secret  TEXT,
    drift_threshold INTEGER NOT NULL DEFAULT 10,
    updated_by      INTEGER REFERENCES users(id),
    updated_at      TEXT NOT NULL
);

CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    group_key  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    summary    TEXT NOT NULL,
    details    TEXT NOT NULL,
    repeats    INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX alerts_recent ON alerts (created_at);

CREATE TABLE alert_groups (
    group_key    TEXT PRIMARY KEY,
    window_start TEXT NOT NULL,
    alert_id     INTEGER REFERENCES alerts(id) ON DELETE SET NULL
);
