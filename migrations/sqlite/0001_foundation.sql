-- Users, jobs, candidates, applications and their stage history; login throttling.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin','recruiter','security_reviewer','hiring_manager')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    title             TEXT NOT NULL UNIQUE,
    hiring_manager_id INTEGER NOT NULL REFERENCES users(id),
    policy_name       TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX jobs_hiring_manager ON jobs (hiring_manager_id);

CREATE TABLE candidates (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    first_name              TEXT NOT NULL,
    last_name               TEXT NOT NULL,
    email                   TEXT NOT NULL UNIQUE,
    phone                   TEXT NOT NULL DEFAULT '',
    address                 TEXT NOT NULL DEFAULT '',
    address_2               TEXT NOT NULL DEFAULT '',
    city                    TEXT NOT NULL DEFAULT '',
    state                   TEXT NOT NULL DEFAULT '',
    zip                     TEXT NOT NULL DEFAULT '',
    verification_status     TEXT NOT NULL DEFAULT 'not_started'
        CHECK (verification_status IN ('not_started','in_progress','verified','failed','needs_review','expired')),
    verification_updated_at TEXT,
    created_at              TEXT NOT NULL
);

CREATE TABLE applications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    job_id       INTEGER NOT NULL REFERENCES jobs(id),
    stage        TEXT NOT NULL
        CHECK (stage IN ('applied','phone_screen','onsite_or_panel_interview','coding_assessment','offer','hired','rejected')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (candidate_id, job_id)
);
CREATE INDEX applications_job_stage ON applications (job_id, stage);

CREATE TABLE stage_changes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    from_stage     TEXT,
    to_stage       TEXT NOT NULL,
    actor_user_id  INTEGER REFERENCES users(id),
    changed_at     TEXT NOT NULL
);
CREATE INDEX stage_changes_application ON stage_changes (application_id, id);

CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    scope_key TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (scope_key, failed_at);
