-- Insights reads background-check orders by when they were placed (order placed → result).
CREATE INDEX background_check_orders_created ON background_check_orders (created_at);

-- At 100k candidates in a 90-day range the page reads every application, session and stage
-- change in it: indexes holding the columns it reads answer from the index alone (SQLite, one
-- reading at 100k: the funnel 0.38 → 0.20 s, stages now 0.10 → 0.02 s, outcomes 0.27 → 0.14 s,
-- results over time 0.14 → 0.05 s). They replace the narrower ones of the same names.
DROP INDEX applications_created;
CREATE INDEX applications_created ON applications (created_at, stage, candidate_id, job_id);
DROP INDEX stage_changes_application;
CREATE INDEX stage_changes_application ON stage_changes (application_id, id, to_stage);
DROP INDEX verification_sessions_created;
CREATE INDEX verification_sessions_created ON verification_sessions (created_at, status, risk_tier, last_event_at, candidate_id);
DROP INDEX verification_sessions_last_event;
CREATE INDEX verification_sessions_last_event ON verification_sessions (last_event_at, status, risk_tier, candidate_id);
