-- The review queue from indexes of the open items alone, in the order it shows them. An index led
-- by state held the two open states as two ranges: every queue request sorted all open items
-- (1,667 at 100k candidates) for its first page, and grouped them again for the tier counts.
DROP INDEX review_items_queue;
DROP INDEX review_items_open_tiers;
CREATE INDEX review_items_open_by_deadline ON review_items (deadline_at, id)
    WHERE state IN ('open', 'awaiting_second_approval');
CREATE INDEX review_items_open_by_tier ON review_items (risk_tier, deadline_at)
    WHERE state IN ('open', 'awaiting_second_approval');

-- A number that changes whenever anything the review queue shows may have changed (its items, the
-- reason codes, the reviewers, candidates' names), so a queue's readings can be kept until then
-- (services::review::QueueCache), as list_version does for the candidate list. (PostgreSQL uses
-- its snapshot instead.)
CREATE TABLE review_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO review_version (id, n) VALUES (1, 0);

CREATE TRIGGER review_version_item_insert AFTER INSERT ON review_items BEGIN
    UPDATE review_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER review_version_item_update AFTER UPDATE ON review_items BEGIN
    UPDATE review_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER review_version_item_delete AFTER DELETE ON review_items BEGIN
    UPDATE review_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER review_version_reason_insert AFTER INSERT ON review_reason_codes BEGIN
    UPDATE review_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER review_version_reason_update AFTER UPDATE ON review_reason_codes BEGIN
    UPDATE review_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER review_version_reason_delete AFTER DELETE ON review_reason_codes BEGIN
    UPDATE review_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER review_version_user_insert AFTER INSERT ON users BEGIN
    UPDATE review_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER review_version_user_update AFTER UPDATE OF name, role ON users BEGIN
    UPDATE review_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER review_version_user_delete AFTER DELETE ON users BEGIN
    UPDATE review_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER review_version_candidate_update AFTER UPDATE OF first_name, last_name ON candidates BEGIN
    UPDATE review_version SET n = n + 1 WHERE id = 1;
END;
