-- Reconciliation runs against the verification provider, and the drift they found and fixed.
CREATE TABLE reconciliation_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('running','finished','failed')),
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    checked     INTEGER NOT NULL DEFAULT 0,
    drifted     INTEGER NOT NULL DEFAULT 0,
    fixed       INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER,
    error       TEXT
);
-- At most one run at a time, across every app instance.
CREATE UNIQUE INDEX reconciliation_one_running ON reconciliation_runs (state) WHERE state = 'running';

CREATE TABLE drift_records (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       INTEGER REFERENCES reconciliation_runs(id),
    candidate_id INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    session_id   TEXT NOT NULL,
    field        TEXT NOT NULL,
    before_value TEXT,
    after_value  TEXT,
    detected_at  TEXT NOT NULL,
    resolved_at  TEXT
);
CREATE INDEX drift_records_recent ON drift_records (detected_at);
