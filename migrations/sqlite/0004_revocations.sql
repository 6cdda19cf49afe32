-- jwt-rotate, SQLite, migration 4: the revocation feed.
--
-- Run by the store's `migrate` like migration 1; once released, it never
-- changes. Version 4 (5 and 6 are other features').
--
-- {prefix}revocations: one row per revocation made in {prefix}sessions (`revoke`
-- that changed a session, every `revoke_subject`), written by the
-- revoking transaction itself, so there is no revocation without its row
-- and no row without its revocation. `id` is the feed's cursor: the
-- revoking transaction takes it from {prefix}revocations_head under
-- SQLite's write lock, so ids are given out and committed in the same
-- order (a reader never sees id 7 before id 6) and without gaps.
-- Exactly one of session_id and subject is set; except_id is the session
-- a subject revocation spared. Instants are microseconds, as in sessions.
CREATE TABLE IF NOT EXISTS {prefix}revocations (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id > 0),
    session_id BLOB    CHECK (length(session_id) = 16),
    subject    TEXT,
    except_id  BLOB    CHECK (length(except_id) = 16),
    at         INTEGER NOT NULL,
    CHECK ((session_id IS NULL) <> (subject IS NULL)),
    CHECK (except_id IS NULL OR subject IS NOT NULL)
) STRICT;

-- Retention (`purge_expired`) trims the oldest revocations by instant.
CREATE INDEX IF NOT EXISTS {prefix}revocations_at ON {prefix}revocations (at);

-- One row: the last id given out, the last id trimmed by retention
-- (`purge_expired`; a cursor before `trimmed` is too old), and the latest
-- instant of an entry trimmed (microseconds, NULL before the first trim):
-- what a follower that is too old may have missed happened at or before
-- it.
CREATE TABLE IF NOT EXISTS {prefix}revocations_head (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    head    INTEGER NOT NULL,
    trimmed INTEGER NOT NULL,
    trimmed_at INTEGER,
    CHECK (0 <= trimmed AND trimmed <= head)
) STRICT;
INSERT INTO {prefix}revocations_head (id, head, trimmed) VALUES (1, 0, 0)
    ON CONFLICT (id) DO NOTHING;
