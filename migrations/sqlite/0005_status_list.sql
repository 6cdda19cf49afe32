-- jwt-rotate, SQLite, migration 5: status indexes, for token status lists
-- (draft-ietf-oauth-status-list).
--
-- Runs in the same transaction as its record, so it runs once. Version 5:
-- 4 and 6 are other features'.
--
-- status_index: the session's index in the status lists; NULL for a
-- session made by plain `create` or stored before this migration. SQLite
-- has no sequence: the INSERT of `create_indexed` reads the next index
-- from a counter row, and a trigger moves the counter past every index
-- inserted, in the same statement (SQLite runs one writer at a time), so
-- no index is given out twice, even after a purge. The unique index also
-- serves the list's range read of revoked sessions.
ALTER TABLE {prefix}sessions ADD COLUMN status_index INTEGER CHECK (status_index >= 0);
CREATE UNIQUE INDEX {prefix}sessions_status_index ON {prefix}sessions (status_index);
CREATE TABLE {prefix}status_counter (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 0),
    next_index INTEGER NOT NULL
) STRICT;
INSERT INTO {prefix}status_counter (id, next_index) VALUES (0, 0);
CREATE TRIGGER {prefix}sessions_status_counter AFTER INSERT ON {prefix}sessions
WHEN NEW.status_index >= (SELECT next_index FROM {prefix}status_counter WHERE id = 0)
BEGIN
    UPDATE {prefix}status_counter SET next_index = NEW.status_index + 1 WHERE id = 0;
END;
