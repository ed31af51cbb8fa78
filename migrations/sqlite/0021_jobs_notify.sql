-- PostgreSQL's 0020 has triggers NOTIFY the delivery workers of every instance when a job is
-- queued. SQLite runs one instance: its connections tell the worker from their commit hook
-- (db::jobs::watch_commits), so there is nothing to create here; the file keeps the numbers of
-- both directories in step.
SELECT 1;
