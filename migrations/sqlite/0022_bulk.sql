-- Bulk actions from the candidate list (services::bulk): one row per bulk job, one per candidate
-- of its selection. A candidate's item is marked done in the same transaction as the action it
-- stands for, so a job resumed after a restart never acts on a candidate twice. request_key makes
-- a repeated submission (double click, retry after a timeout) the same job.
CREATE TABLE bulk_jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    request_key TEXT NOT NULL,
    action      TEXT NOT NULL,
    stage       TEXT,
    state       TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'cancelled', 'finished')),
    created_by  INTEGER NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    finished_at TEXT,
    total       INTEGER NOT NULL,
    UNIQUE (created_by, request_key)
);
CREATE INDEX bulk_jobs_running ON bulk_jobs (state, id);

CREATE TABLE bulk_items (
    bulk_id      INTEGER NOT NULL REFERENCES bulk_jobs(id) ON DELETE CASCADE,
    candidate_id INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    outcome      TEXT NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'done', 'skipped', 'failed')),
    detail       TEXT,
    updated_at   TEXT,
    PRIMARY KEY (bulk_id, candidate_id)
);
CREATE INDEX bulk_items_outcome ON bulk_items (bulk_id, outcome, position);
