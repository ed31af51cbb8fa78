-- What changed, for GET /events (services::events): one row per change a page may show, written by
-- triggers in the writing transaction; a NOTIFY on clearance_changes wakes every app instance's
-- pump (they LISTEN) at the commit, which reads the new rows and sends them to the browsers whose
-- user may see them. The id is the stream's event id (Last-Event-ID); rows are kept for an hour.
CREATE TABLE change_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL,
    candidate_id BIGINT,
    at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX change_events_at ON change_events (at);

-- The payload is empty so that a transaction's notifications fold into one.
CREATE FUNCTION change_event(kind TEXT, candidate BIGINT) RETURNS void AS $$
BEGIN
    INSERT INTO change_events (kind, candidate_id) VALUES (kind, candidate);
    PERFORM pg_notify('clearance_changes', '');
END;
$$ LANGUAGE plpgsql;

-- A change of kind TG_ARGV[0] to the candidate in the new row's column TG_ARGV[1].
CREATE FUNCTION change_events_row() RETURNS trigger AS $$
BEGIN
    PERFORM change_event(TG_ARGV[0], CAST(to_jsonb(NEW)->>TG_ARGV[1] AS BIGINT));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER change_events_verification
    AFTER UPDATE OF verification_status, verification_risk_tier, verification_session_id, integrity_score, integrity_flagged
    ON candidates FOR EACH ROW EXECUTE FUNCTION change_events_row('verification', 'id');
CREATE TRIGGER change_events_stage AFTER UPDATE OF stage ON applications
    FOR EACH ROW EXECUTE FUNCTION change_events_row('stage', 'candidate_id');
CREATE TRIGGER change_events_order AFTER INSERT OR UPDATE OF status, result, error_message ON background_check_orders
    FOR EACH ROW EXECUTE FUNCTION change_events_row('orders', 'candidate_id');
-- Adverse-action steps show in the background-check section: told as 'orders'.
CREATE TRIGGER change_events_adverse AFTER INSERT OR UPDATE ON adverse_actions
    FOR EACH ROW EXECUTE FUNCTION change_events_row('orders', 'candidate_id');
CREATE TRIGGER change_events_interview AFTER INSERT OR UPDATE ON interviews
    FOR EACH ROW EXECUTE FUNCTION change_events_row('interviews', 'candidate_id');
CREATE TRIGGER change_events_integrity_report AFTER INSERT ON integrity_reports
    FOR EACH ROW EXECUTE FUNCTION change_events_row('interviews', 'candidate_id');
CREATE TRIGGER change_events_review AFTER INSERT OR UPDATE OF state, assignee_id, decision ON review_items
    FOR EACH ROW EXECUTE FUNCTION change_events_row('review_queue', 'candidate_id');

-- A delivery done or dead-lettered; its subject names the candidate as 'candidate:N'.
CREATE FUNCTION change_events_delivery() RETURNS trigger AS $$
BEGIN
    PERFORM change_event('deliveries',
        CASE WHEN NEW.subject LIKE 'candidate:%' THEN CAST(SUBSTR(NEW.subject, 11) AS BIGINT) END);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER change_events_delivery AFTER UPDATE OF state ON delivery_jobs
    FOR EACH ROW WHEN (NEW.state IN ('done', 'dead') AND NEW.state IS DISTINCT FROM OLD.state)
    EXECUTE FUNCTION change_events_delivery();

-- A notice emailed (or not): its action names the candidate.
CREATE FUNCTION change_events_notice() RETURNS trigger AS $$
BEGIN
    PERFORM change_event('orders', (SELECT a.candidate_id FROM adverse_actions a WHERE a.id = NEW.action_id));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER change_events_notice AFTER UPDATE OF email_state ON adverse_notices
    FOR EACH ROW EXECUTE FUNCTION change_events_notice();
