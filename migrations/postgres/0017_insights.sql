-- Insights reads applications, verification sessions and review items by when they began (and
-- sessions by when their result came), for a
-- date range: without these it would read every row of each at 100k candidates.
CREATE INDEX applications_created ON applications (created_at);
CREATE INDEX verification_sessions_created ON verification_sessions (created_at);
CREATE INDEX verification_sessions_last_event ON verification_sessions (last_event_at);
CREATE INDEX review_items_opened ON review_items (opened_at);
