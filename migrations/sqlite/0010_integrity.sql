-- Interview integrity (seed 003): the monitor connection (connect once), interviews announced to
-- it, and the signed reports it posts back, attached to the candidate record.
CREATE TABLE monitor_connection (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    url            TEXT NOT NULL,
    api_key        TEXT NOT NULL,
    webhook_secret TEXT NOT NULL,
    updated_by     INTEGER REFERENCES users(id),
    updated_at     TEXT NOT NULL
);

CREATE TABLE interviews (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id       INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    stage              TEXT NOT NULL,
    scheduled_at       TEXT NOT NULL,
    time_zone          TEXT NOT NULL,
    interviewers       TEXT NOT NULL DEFAULT '[]',
    state              TEXT NOT NULL CHECK (state IN ('scheduled','cancelled')),
    monitor_session_id TEXT,
    created_by         INTEGER REFERENCES users(id),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX interviews_candidate ON interviews (candidate_id, scheduled_at);

CREATE TABLE integrity_reports (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id         TEXT NOT NULL UNIQUE,
    interview_ref      TEXT NOT NULL,
    interview_id       INTEGER REFERENCES interviews(id) ON DELETE CASCADE,
    candidate_id       INTEGER REFERENCES candidates(id) ON DELETE CASCADE,
    monitor_session_id TEXT NOT NULL,
    generated_at       TEXT NOT NULL,
    consent            TEXT NOT NULL,
    integrity_score    INTEGER NOT NULL CHECK (integrity_score BETWEEN 0 AND 100),
    flags              TEXT NOT NULL DEFAULT '[]',
    summary            TEXT NOT NULL DEFAULT '',
    filename           TEXT NOT NULL,
    content_type       TEXT NOT NULL,
    content            BLOB NOT NULL,
    sha256             TEXT NOT NULL,
    received_at        TEXT NOT NULL,
    UNIQUE (interview_ref, monitor_session_id, generated_at)
);
CREATE INDEX integrity_reports_candidate ON integrity_reports (candidate_id, generated_at);

-- The latest report's score and flags, on the candidate for the list and its filters.
ALTER TABLE candidates ADD COLUMN integrity_score INTEGER;
ALTER TABLE candidates ADD COLUMN integrity_flagged BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX candidates_integrity ON candidates (integrity_score);
