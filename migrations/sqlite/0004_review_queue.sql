-- The security review queue: one item per verification session that needs a person's decision.
CREATE TABLE review_items (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id       INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    session_id         TEXT NOT NULL UNIQUE,
    risk_tier          TEXT CHECK (risk_tier IN ('low','medium','high')),
    provider_status    TEXT NOT NULL,
    state              TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','awaiting_second_approval','closed')),
    opened_at          TEXT NOT NULL,
    deadline_at        TEXT,
    assignee_id        INTEGER REFERENCES users(id),
    claimed_at         TEXT,
    decision           TEXT CHECK (decision IN ('verified','failed','reverify')),
    reason_code        TEXT,
    rationale          TEXT,
    decided_by         INTEGER REFERENCES users(id),
    decided_at         TEXT,
    second_approver_id INTEGER REFERENCES users(id),
    approved_at        TEXT,
    breach_logged_at   TEXT
);
CREATE INDEX review_items_queue ON review_items (state, deadline_at);

ALTER TABLE candidates ADD COLUMN verification_reviewer TEXT;
ALTER TABLE candidates ADD COLUMN verification_review_reason TEXT;
