-- Bulk "Order background check" and "Move to stage" (services::bulk). A job keeps what it orders
-- (params, JSON: partner, package, add-ons, the total per candidate). An item is a position in the
-- selection and names the application it acts on (a move acts on each selected application, so a
-- candidate may have several items). Progress is told over GET /events ('bulk'). Bulk runners
-- of every instance share one pace per partner through bulk_pace (next free slot, µs since epoch);
-- an instance claims an item before it takes a slot for it (claimed_until, µs), so instances
-- working one job split its items instead of spending slots on the same ones.
ALTER TABLE bulk_jobs ADD COLUMN params TEXT;

ALTER TABLE bulk_items ADD COLUMN application_id BIGINT REFERENCES applications(id) ON DELETE CASCADE;
ALTER TABLE bulk_items ADD COLUMN claimed_until BIGINT;
ALTER TABLE bulk_items DROP CONSTRAINT bulk_items_pkey;
ALTER TABLE bulk_items ADD PRIMARY KEY (bulk_id, position);

CREATE TRIGGER change_events_bulk_item AFTER UPDATE OF outcome ON bulk_items
    FOR EACH ROW EXECUTE FUNCTION change_events_row('bulk', 'candidate_id');
CREATE FUNCTION change_events_bulk_job() RETURNS trigger AS $$
BEGIN
    PERFORM change_event('bulk', NULL);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER change_events_bulk_job AFTER UPDATE OF state ON bulk_jobs
    FOR EACH ROW EXECUTE FUNCTION change_events_bulk_job();

CREATE TABLE bulk_pace (
    lane    TEXT PRIMARY KEY,
    next_at BIGINT NOT NULL
);
