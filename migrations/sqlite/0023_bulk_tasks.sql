-- Bulk "Order background check" and "Move to stage" (services::bulk). A job keeps what it orders
-- (params, JSON: partner, package, add-ons, the total per candidate). An item is a position in the
-- selection and names the application it acts on (a move acts on each selected application, so a
-- candidate may have several items). Progress is told over GET /events ('bulk'). Bulk runners
-- of every instance share one pace per partner through bulk_pace (next free slot, µs since epoch);
-- an instance claims an item before it takes a slot for it (claimed_until, µs), so instances
-- working one job split its items instead of spending slots on the same ones.
ALTER TABLE bulk_jobs ADD COLUMN params TEXT;

CREATE TABLE bulk_items_new (
    bulk_id        INTEGER NOT NULL REFERENCES bulk_jobs(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    candidate_id   INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    application_id INTEGER REFERENCES applications(id) ON DELETE CASCADE,
    outcome        TEXT NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'done', 'skipped', 'failed')),
    detail         TEXT,
    updated_at     TEXT,
    claimed_until  INTEGER,
    PRIMARY KEY (bulk_id, position)
);
INSERT INTO bulk_items_new (bulk_id, position, candidate_id, outcome, detail, updated_at)
    SELECT bulk_id, position, candidate_id, outcome, detail, updated_at FROM bulk_items;
DROP TABLE bulk_items;
ALTER TABLE bulk_items_new RENAME TO bulk_items;
CREATE INDEX bulk_items_outcome ON bulk_items (bulk_id, outcome, position);

CREATE TRIGGER change_events_bulk_item AFTER UPDATE OF outcome ON bulk_items BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('bulk', NEW.candidate_id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
CREATE TRIGGER change_events_bulk_job AFTER UPDATE OF state ON bulk_jobs BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('bulk', NULL, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;

CREATE TABLE bulk_pace (
    lane    TEXT PRIMARY KEY,
    next_at INTEGER NOT NULL
);
