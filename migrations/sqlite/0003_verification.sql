-- Identity-verification sessions, inbound webhook events (stored before we answer), durable jobs.
CREATE TABLE verification_sessions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id        TEXT NOT NULL UNIQUE,
    candidate_id      INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    status            TEXT NOT NULL DEFAULT 'not_started'
        CHECK (status IN ('not_started','in_progress','verified','failed','needs_review','expired')),
    risk_tier         TEXT CHECK (risk_tier IN ('low','medium','high')),
    reason_codes      TEXT NOT NULL DEFAULT '[]',
    evidence_pack_url TEXT,
    policy_name       TEXT,
    candidate_url     TEXT,
    last_event_at     TEXT,
    last_event_type   TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX verification_sessions_candidate ON verification_sessions (candidate_id, created_at);

ALTER TABLE candidates ADD COLUMN verification_session_id TEXT;
ALTER TABLE candidates ADD COLUMN verification_risk_tier TEXT CHECK (verification_risk_tier IN ('low','medium','high'));
ALTER TABLE candidates ADD COLUMN verification_verified_at TEXT;
CREATE INDEX candidates_verification ON candidates (verification_status, verification_risk_tier);

CREATE TABLE webhook_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    source           TEXT NOT NULL CHECK (source IN ('verification','integrity')),
    webhook_id       TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    candidate_ref    TEXT NOT NULL,
    session_id       TEXT NOT NULL,
    event_created_at TEXT NOT NULL,
    body             TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending','applied','stale','unknown_candidate')),
    note             TEXT,
    received_at      TEXT NOT NULL,
    processed_at     TEXT,
    UNIQUE (source, webhook_id),
    UNIQUE (source, candidate_ref, session_id, event_type, event_created_at)
);
CREATE INDEX webhook_events_state ON webhook_events (state, id);

CREATE TABLE delivery_jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','running','done','dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       TEXT NOT NULL,
    lease_until  TEXT,
    last_error   TEXT,
    subject      TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX delivery_jobs_due ON delivery_jobs (state, run_at);

CREATE TABLE delivery_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id       INTEGER NOT NULL REFERENCES delivery_jobs(id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    started_at   TEXT NOT NULL,
    latency_ms   INTEGER NOT NULL,
    http_status  INTEGER,
    outcome      TEXT NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX delivery_attempts_job ON delivery_attempts (job_id, attempt);
