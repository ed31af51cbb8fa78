-- Adverse action (FCRA) on a background-check result: the individualized assessment, the
-- pre-adverse notice, the waiting period (per job), responses, and the final notice.

-- Each job's waiting period: calendar days, or business days on the business calendar; and
-- whether the final notice goes out by itself when the period ends.
ALTER TABLE jobs ADD COLUMN adverse_wait_days INTEGER NOT NULL DEFAULT 7;
ALTER TABLE jobs ADD COLUMN adverse_wait_business INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN adverse_auto_final INTEGER NOT NULL DEFAULT 0;

-- The final notice names the consumer reporting agency with its address and phone.
ALTER TABLE partners ADD COLUMN address TEXT;
ALTER TABLE partners ADD COLUMN phone TEXT;

-- Admin-edited notice templates, versioned: a notice records the version it was rendered from.
-- No row for a kind: the built-in template (version 0) applies.
CREATE TABLE notice_templates (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    UNIQUE (kind, version)
);

CREATE TABLE adverse_actions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id     INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    application_id   INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    order_id         INTEGER NOT NULL REFERENCES background_check_orders(id) ON DELETE CASCADE,
    state            TEXT NOT NULL,
    findings         TEXT,
    offense_gravity  TEXT,
    time_elapsed     TEXT,
    job_nature       TEXT,
    rationale        TEXT,
    assessed_by      INTEGER REFERENCES users(id),
    assessed_at      TEXT,
    wait_days        INTEGER NOT NULL,
    wait_business    INTEGER NOT NULL,
    deadline_at      TEXT,
    paused_at        TEXT,
    closed_reason    TEXT,
    closed_by        INTEGER REFERENCES users(id),
    closed_at        TEXT,
    started_by       INTEGER REFERENCES users(id),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
-- One open process per application; the gate and the auto-final sweep read these indexes.
CREATE UNIQUE INDEX adverse_actions_open ON adverse_actions (application_id)
    WHERE state IN ('assessing', 'waiting', 'paused');
CREATE INDEX adverse_actions_candidate ON adverse_actions (candidate_id, id);
CREATE INDEX adverse_actions_due ON adverse_actions (deadline_at) WHERE state = 'waiting';

CREATE TABLE adverse_notices (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    action_id        INTEGER NOT NULL REFERENCES adverse_actions(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    email_state      TEXT NOT NULL,
    email_detail     TEXT,
    sent_at          TEXT,
    created_by       INTEGER REFERENCES users(id),
    created_at       TEXT NOT NULL,
    UNIQUE (action_id, kind)
);

CREATE TABLE adverse_responses (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    action_id       INTEGER NOT NULL REFERENCES adverse_actions(id) ON DELETE CASCADE,
    note            TEXT NOT NULL,
    document_name   TEXT,
    document        BLOB,
    document_sha256 TEXT,
    recorded_by     INTEGER REFERENCES users(id),
    recorded_at     TEXT NOT NULL
);
CREATE INDEX adverse_responses_action ON adverse_responses (action_id, id);
