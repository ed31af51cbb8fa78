-- A running reconciliation proves it is alive after every page; a silent one is abandoned.
ALTER TABLE reconciliation_runs ADD COLUMN heartbeat_at TEXT;
