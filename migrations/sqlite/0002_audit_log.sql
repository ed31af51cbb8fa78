-- The append-only, hash-chained audit log. Only redaction (payload set to NULL) may touch a row.
CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY,
    occurred_at    TEXT NOT NULL,
    actor_type     TEXT NOT NULL CHECK (actor_type IN ('user','system','partner')),
    actor_id       TEXT,
    actor_label    TEXT NOT NULL,
    subject_type   TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    event_type     TEXT NOT NULL,
    payload        TEXT,
    payload_sha256 TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL UNIQUE,
    redacted_at    TEXT
);
CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id, seq);
CREATE INDEX audit_log_occurred ON audit_log (occurred_at);

-- One row: the sequence number and hash of the newest entry. Appends lock it, so they serialize.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_checkpoints (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    count      INTEGER NOT NULL,
    head_hash  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL
);

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE is refused');
END;

CREATE TRIGGER audit_log_only_redaction BEFORE UPDATE ON audit_log
WHEN NOT (
    NEW.payload IS NULL AND NEW.redacted_at IS NOT NULL
    AND NEW.seq = OLD.seq AND NEW.occurred_at = OLD.occurred_at
    AND NEW.actor_type = OLD.actor_type AND NEW.actor_id IS OLD.actor_id AND NEW.actor_label = OLD.actor_label
    AND NEW.subject_type = OLD.subject_type AND NEW.subject_id = OLD.subject_id AND NEW.event_type = OLD.event_type
    AND NEW.payload_sha256 = OLD.payload_sha256 AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash
)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: only redacting the payload is allowed');
END;
