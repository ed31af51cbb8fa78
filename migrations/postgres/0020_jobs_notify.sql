-- A queued delivery job wakes the delivery worker of every instance at the commit (they LISTEN on
-- clearance_jobs; db::jobs::relay_notifications) instead of at its next poll. One notification per
-- transaction: equal payloads fold.
CREATE FUNCTION jobs_queued() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('clearance_jobs', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER delivery_jobs_queued AFTER INSERT ON delivery_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_queued();
-- A dead letter replayed from the Deliveries page is queued again.
CREATE TRIGGER delivery_jobs_replayed AFTER UPDATE OF state ON delivery_jobs
    FOR EACH ROW WHEN (NEW.state = 'pending' AND OLD.state = 'dead')
    EXECUTE FUNCTION jobs_queued();
