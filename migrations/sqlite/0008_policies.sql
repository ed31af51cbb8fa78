-- Versioned verification policies (seed 001 YAML), time-bound stage exceptions, and the
-- one-per-stage record of automatically started verifications.
CREATE TABLE policies (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    policy_name   TEXT NOT NULL,
    version       INTEGER NOT NULL,
    yaml          TEXT NOT NULL,
    created_by    INTEGER REFERENCES users(id),
    created_at    TEXT NOT NULL,
    change_ticket TEXT,
    UNIQUE (policy_name, version)
);

CREATE TABLE stage_exceptions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id      INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    stage             TEXT NOT NULL,
    reason_code       TEXT NOT NULL,
    approved_by       INTEGER NOT NULL REFERENCES users(id),
    approved_at       TEXT NOT NULL,
    expiry_at         TEXT NOT NULL,
    policy_name       TEXT NOT NULL,
    policy_version    INTEGER NOT NULL,
    expired_logged_at TEXT
);
CREATE INDEX stage_exceptions_candidate ON stage_exceptions (candidate_id, stage, expiry_at);

CREATE TABLE auto_verifications (
    application_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    stage          TEXT NOT NULL,
    job_id         INTEGER,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (application_id, stage)
);

-- Reason codes for time-bound stage exceptions, alongside the review codes (admins extend both).
INSERT INTO review_reason_codes (code, label, built_in) VALUES
    ('exception_verification_scheduled', 'Exception: verification scheduled, interview cannot wait', TRUE),
    ('exception_provider_outage', 'Exception: verification provider outage', TRUE);
