-- What changed, for GET /events (services::events): one row per change a page may show, written by
-- triggers in the writing transaction, read by each app instance's pump after the commit and sent
-- to the browsers whose user may see it. The id is the stream's event id (a reconnecting browser
-- names the last one it saw: Last-Event-ID); rows are kept for an hour.
CREATE TABLE change_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    candidate_id INTEGER,
    at           TEXT NOT NULL
);
CREATE INDEX change_events_at ON change_events (at);
CREATE TRIGGER change_events_verification AFTER UPDATE OF verification_status, verification_risk_tier, verification_session_id, integrity_score, integrity_flagged ON candidates BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('verification', NEW.id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
CREATE TRIGGER change_events_stage AFTER UPDATE OF stage ON applications BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('stage', NEW.candidate_id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
CREATE TRIGGER change_events_order_insert AFTER INSERT ON background_check_orders BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('orders', NEW.candidate_id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
CREATE TRIGGER change_events_order_update AFTER UPDATE OF status, result, error_message ON background_check_orders BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('orders', NEW.candidate_id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
CREATE TRIGGER change_events_interview_insert AFTER INSERT ON interviews BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('interviews', NEW.candidate_id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
CREATE TRIGGER change_events_interview_update AFTER UPDATE ON interviews BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('interviews', NEW.candidate_id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
CREATE TRIGGER change_events_review_insert AFTER INSERT ON review_items BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('review_queue', NEW.candidate_id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
CREATE TRIGGER change_events_review_update AFTER UPDATE OF state, assignee_id, decision ON review_items BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('review_queue', NEW.candidate_id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
CREATE TRIGGER change_events_delivery AFTER UPDATE OF state ON delivery_jobs
    WHEN NEW.state IN ('done', 'dead') AND NEW.state <> OLD.state BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('deliveries', CASE WHEN NEW.subject LIKE 'candidate:%' THEN CAST(SUBSTR(NEW.subject, 11) AS INTEGER) END, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
-- Adverse-action steps show in the background-check section: told as 'orders'.
CREATE TRIGGER change_events_adverse_insert AFTER INSERT ON adverse_actions BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('orders', NEW.candidate_id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
CREATE TRIGGER change_events_adverse_update AFTER UPDATE ON adverse_actions BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('orders', NEW.candidate_id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
CREATE TRIGGER change_events_notice AFTER UPDATE OF email_state ON adverse_notices BEGIN
    INSERT INTO change_events (kind, candidate_id, at)
    SELECT 'orders', a.candidate_id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now') FROM adverse_actions a WHERE a.id = NEW.action_id;
END;
-- An integrity report shows in the interviews section.
CREATE TRIGGER change_events_integrity_report AFTER INSERT ON integrity_reports BEGIN
    INSERT INTO change_events (kind, candidate_id, at) VALUES ('interviews', NEW.candidate_id, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
END;
