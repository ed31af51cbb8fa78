-- The candidate list pages newest-first within a job or a stage: each filter walks its own index
-- in the keyset order instead of the whole table.
CREATE INDEX applications_job_keyset ON applications (job_id, id);
CREATE INDEX applications_stage_keyset ON applications (stage, id);
CREATE INDEX candidates_risk ON candidates (verification_risk_tier);
