-- A number that changes whenever anything the candidate list counts or shows may have changed, so
-- counts and pages can be kept until then (services::candidates::ListCache). Triggers keep it, inside the writing
-- transaction: a reader sees the number and the rows of one and the same commit. SQLite has one
-- writer at a time, so the one row is no contention. (PostgreSQL uses its snapshot instead.)
CREATE TABLE list_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO list_version (id, n) VALUES (1, 0);

CREATE TRIGGER list_version_candidate_insert AFTER INSERT ON candidates BEGIN
    UPDATE list_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER list_version_candidate_delete AFTER DELETE ON candidates BEGIN
    UPDATE list_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER list_version_candidate_update AFTER UPDATE OF
    first_name, last_name, email, verification_status, verification_risk_tier, integrity_score, integrity_flagged
    ON candidates BEGIN
    UPDATE list_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER list_version_application_insert AFTER INSERT ON applications BEGIN
    UPDATE list_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER list_version_application_delete AFTER DELETE ON applications BEGIN
    UPDATE list_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER list_version_application_update AFTER UPDATE OF candidate_id, job_id, stage
    ON applications BEGIN
    UPDATE list_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER list_version_job_update AFTER UPDATE OF hiring_manager_id, title ON jobs BEGIN
    UPDATE list_version SET n = n + 1 WHERE id = 1;
END;
