-- jwt-rotate, MySQL 8.0.16+ / MariaDB 10.6+, migration 4: the revocation
-- feed.
--
-- Run by `MySqlStore::migrate` like migration 1, and like it written so
-- that every statement can run again without harm (MySQL commits around
-- DDL). Once released, it never changes. Version 4 (5 and 6 are other
-- features').
--
-- {prefix}revocations: one row per revocation made in {prefix}sessions (`revoke`
-- that changed a session, every `revoke_subject`), written by the
-- revoking transaction itself, so there is no revocation without its row
-- and no row without its revocation. `id` is the feed's cursor: the
-- revoking transaction takes it from {prefix}revocations_head, whose row
-- it holds locked until it commits, so ids are given out and committed in
-- the same order (a reader never sees id 7 before id 6) and without gaps;
-- no AUTO_INCREMENT, whose values InnoDB hands out before the commit.
-- Exactly one of session_id and subject is set; except_id is the session
-- a subject revocation spared. The subject is only read back, never
-- compared, so it is plain utf8mb4 text. Instants are microseconds.
CREATE TABLE IF NOT EXISTS {prefix}revocations (
    id         BIGINT        NOT NULL PRIMARY KEY,
    session_id VARBINARY(16),
    subject    TEXT,
    except_id  VARBINARY(16),
    at         BIGINT        NOT NULL,
    -- Retention (`purge_expired`) trims the oldest revocations by instant.
    INDEX {prefix}revocations_at (at),
    CONSTRAINT {prefix}revocations_id CHECK (id > 0),
    CONSTRAINT {prefix}revocations_session CHECK (LENGTH(session_id) = 16),
    CONSTRAINT {prefix}revocations_except CHECK (LENGTH(except_id) = 16),
    CONSTRAINT {prefix}revocations_what CHECK ((session_id IS NULL) <> (subject IS NULL)),
    CONSTRAINT {prefix}revocations_spared CHECK (except_id IS NULL OR subject IS NOT NULL)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row: the last id given out, the last id trimmed by retention
-- (`purge_expired`; a cursor before `trimmed` is too old), and the latest
-- instant of an entry trimmed (microseconds, NULL before the first trim):
-- what a follower that is too old may have missed happened at or before
-- it.
CREATE TABLE IF NOT EXISTS {prefix}revocations_head (
    id      BIGINT NOT NULL PRIMARY KEY,
    head    BIGINT NOT NULL,
    trimmed BIGINT NOT NULL,
    trimmed_at BIGINT,
    CONSTRAINT {prefix}revocations_head_one CHECK (id = 1),
    CONSTRAINT {prefix}revocations_head_order CHECK (0 <= trimmed AND trimmed <= head)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
INSERT IGNORE INTO {prefix}revocations_head (id, head, trimmed) VALUES (1, 0, 0);
