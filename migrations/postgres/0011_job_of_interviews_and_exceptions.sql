-- Interviews and stage exceptions belong to one application's job, so that a hiring manager sees
-- only those of their own jobs and an exception lifts the gate of that job's moves only.
-- Rows from before: the job is known when the candidate has exactly one application.
ALTER TABLE interviews ADD COLUMN job_id BIGINT REFERENCES jobs(id);
UPDATE interviews SET job_id = (SELECT MIN(a.job_id) FROM applications a WHERE a.candidate_id = interviews.candidate_id)
 WHERE (SELECT COUNT(*) FROM applications a WHERE a.candidate_id = interviews.candidate_id) = 1;
ALTER TABLE stage_exceptions ADD COLUMN job_id BIGINT REFERENCES jobs(id);
UPDATE stage_exceptions SET job_id = (SELECT MIN(a.job_id) FROM applications a WHERE a.candidate_id = stage_exceptions.candidate_id)
 WHERE (SELECT COUNT(*) FROM applications a WHERE a.candidate_id = stage_exceptions.candidate_id) = 1;
