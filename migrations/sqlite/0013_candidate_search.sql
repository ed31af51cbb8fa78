-- Substring search over names and emails without scanning every candidate: an FTS5 trigram index
-- (it answers LIKE '%…%' itself), kept in step with the candidates table by triggers.
CREATE VIRTUAL TABLE candidates_search USING fts5(name, email, tokenize = 'trigram');
INSERT INTO candidates_search (rowid, name, email)
    SELECT id, LOWER(first_name || ' ' || last_name), LOWER(email) FROM candidates;
CREATE TRIGGER candidates_search_insert AFTER INSERT ON candidates BEGIN
    INSERT INTO candidates_search (rowid, name, email)
    VALUES (new.id, LOWER(new.first_name || ' ' || new.last_name), LOWER(new.email));
END;
CREATE TRIGGER candidates_search_delete AFTER DELETE ON candidates BEGIN
    DELETE FROM candidates_search WHERE rowid = old.id;
END;
CREATE TRIGGER candidates_search_update AFTER UPDATE OF first_name, last_name, email ON candidates BEGIN
    UPDATE candidates_search SET name = LOWER(new.first_name || ' ' || new.last_name), email = LOWER(new.email)
    WHERE rowid = old.id;
END;
