-- Review reason codes: a fixed starting list that admins can extend.
CREATE TABLE review_reason_codes (
    code       TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    built_in   BOOLEAN NOT NULL DEFAULT FALSE,
    created_by TEXT
);
INSERT INTO review_reason_codes (code, label, built_in) VALUES
    ('could_not_complete_liveness', 'Could not complete liveness', TRUE),
    ('document_mismatch_recapture', 'Document mismatch, re-capture', TRUE),
    ('voice_or_face_mismatch_escalate', 'Voice or face mismatch, escalate', TRUE),
    ('verified_after_retry', 'Verified after retry', TRUE),
    ('override_with_second_approver', 'Override approved with second approver', TRUE);
