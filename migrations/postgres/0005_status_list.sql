-- jwt-rotate, PostgreSQL, migration 5: status indexes, for token status
-- lists (draft-ietf-oauth-status-list).
--
-- Run by the store's `migrate` like migration 1; once released, it never
-- changes. Version 5: 4 and 6 are other features'.
--
-- status_index: the session's index in the status lists, taken from the
-- sequence by the very INSERT that creates the session (`create_indexed`),
-- so never given out twice, even after a purge; NULL for a session made
-- by plain `create` or stored before this migration. The unique index
-- also serves the list's range read of revoked sessions.
ALTER TABLE {prefix}sessions ADD COLUMN status_index BIGINT CHECK (status_index >= 0);
CREATE UNIQUE INDEX {prefix}sessions_status_index ON {prefix}sessions (status_index);
CREATE SEQUENCE {prefix}status_index_seq AS BIGINT MINVALUE 0 START WITH 0;
