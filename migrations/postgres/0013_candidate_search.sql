-- Substring search over names and emails without scanning every candidate: trigram indexes that
-- answer the list's LIKE '%…%' on the same expressions (pg_trgm is a trusted extension).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX candidates_name_trgm ON candidates USING gin (LOWER(first_name || ' ' || last_name) gin_trgm_ops);
CREATE INDEX candidates_email_trgm ON candidates USING gin (LOWER(email) gin_trgm_ops);
