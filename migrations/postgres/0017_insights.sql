-- Insights reads applications, verification sessions and review items by when they began (and
-- sessions by when their result came), for a
-- date range: without these it would read every row of each at 100k candidates.
CREATE INDEX applications_created ON applications (created_at);
CREATE INDEX verification_sessions_created ON verification_sessions (created_at);
CREATE INDEX verification_sessions_last_event ON verification_sessions (last_event_at);
CREATE INDEX review_items_opened ON review_items (opened_at);
-- Blocked stage moves are read from the audit log by type and time.
CREATE INDEX audit_log_type_time ON audit_log (event_type, occurred_at);
CREATE INDEX stage_exceptions_approved ON stage_exceptions (approved_at);
