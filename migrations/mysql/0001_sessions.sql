-- jwt-rotate, MySQL 8.0.16+ / MariaDB 10.6+, migration 1: the sessions
-- table and its rotate procedure.
--
-- Run by `MySqlStore::migrate`, which replaces {prefix} with the store's
-- table prefix (default `jwt_rotate_`), runs this file holding a named lock
-- (`GET_LOCK`) and records it in {prefix}migrations. MySQL commits before
-- and after every DDL statement, so this file cannot be one transaction:
-- every statement is written to be run again (after a crash between it and
-- the record) without harm. A migration, once released, never changes: its
-- checksum is recorded.
--
-- One row per session, whatever the number of rotations. Instants are
-- integer microseconds since 1970-01-01 UTC. No column holds a token or a
-- secret: only SHA-256 hashes and the grace-wrapped secret, which is
-- useless without the previous token.
--
-- `subject` is bytes, compared byte for byte: MySQL's text collations
-- ignore case (the default ones) or trailing spaces (`utf8mb4_bin` is PAD
-- SPACE), so `alice` could match `Alice` or `alice `. The store reads it
-- back with `CONVERT(subject USING utf8mb4)`.
CREATE TABLE IF NOT EXISTS {prefix}sessions (
    id                  VARBINARY(16) NOT NULL PRIMARY KEY,
    subject             BLOB          NOT NULL,
    generation          BIGINT        NOT NULL,
    secret_hash         VARBINARY(32) NOT NULL,
    -- The previous generation, for grace replay: all four set or none.
    prev_generation     BIGINT,
    prev_secret_hash    VARBINARY(32),
    prev_rotated_at     BIGINT,
    prev_wrapped_secret VARBINARY(32),
    created_at          BIGINT        NOT NULL,
    refreshed_at        BIGINT        NOT NULL,
    idle_expires_at     BIGINT        NOT NULL,
    absolute_expires_at BIGINT        NOT NULL,
    -- Set once, never cleared; the reason is `RevocationReason::as_str`.
    revoked_at          BIGINT,
    revoked_reason      TEXT,
    -- The application's claims, a JSON object, kept as written.
    claims              MEDIUMTEXT    NOT NULL,
    user_agent          TEXT,
    ip                  TEXT,
    label               TEXT,
    -- `purge_expired` deletes by the earlier expiry: MySQL 8 and MariaDB
    -- 11.8 use this column's index for the query's identical expression
    -- (MariaDB before 11.8 scans the table).
    expires_at          BIGINT AS (LEAST(idle_expires_at, absolute_expires_at)) VIRTUAL,
    -- `sessions` and `revoke_subject` read the sessions of one subject.
    INDEX {prefix}sessions_subject (subject(255)),
    INDEX {prefix}sessions_expiry (expires_at),
    CONSTRAINT {prefix}sessions_id CHECK (LENGTH(id) = 16),
    CONSTRAINT {prefix}sessions_generation CHECK (generation >= 0),
    CONSTRAINT {prefix}sessions_secret_hash CHECK (LENGTH(secret_hash) = 32),
    CONSTRAINT {prefix}sessions_prev_secret_hash CHECK (LENGTH(prev_secret_hash) = 32),
    CONSTRAINT {prefix}sessions_prev_wrapped_secret CHECK (LENGTH(prev_wrapped_secret) = 32),
    CONSTRAINT {prefix}sessions_revoked CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
    CONSTRAINT {prefix}sessions_prev CHECK ((prev_generation IS NULL) = (prev_secret_hash IS NULL)
       AND (prev_generation IS NULL) = (prev_rotated_at IS NULL)
       AND (prev_generation IS NULL) = (prev_wrapped_secret IS NULL))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The compare-and-swap of `rotate`, in one round trip: MySQL has no
-- `UPDATE ... RETURNING`. One `CALL` updates the row if it is at the
-- expected generation and secret, unrevoked and unexpired, and only then
-- selects it; no row back means no match. Both statements run in one
-- transaction, so the row returned is the one this call wrote (the row
-- lock is held until the commit). Every error rolls the transaction back
-- before it is raised again, so no connection is left inside one.
DROP PROCEDURE IF EXISTS {prefix}sessions_rotate;
CREATE PROCEDURE {prefix}sessions_rotate(
    IN p_id                  VARBINARY(16),
    IN p_generation          BIGINT,
    IN p_secret_hash         VARBINARY(32),
    IN p_now                 BIGINT,
    IN p_next_generation     BIGINT,
    IN p_next_secret_hash    VARBINARY(32),
    IN p_prev_generation     BIGINT,
    IN p_prev_secret_hash    VARBINARY(32),
    IN p_prev_rotated_at     BIGINT,
    IN p_prev_wrapped_secret VARBINARY(32),
    IN p_idle_expires_at     BIGINT,
    IN p_claims              MEDIUMTEXT CHARACTER SET utf8mb4)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;
    START TRANSACTION;
    UPDATE {prefix}sessions SET
        generation = p_next_generation, secret_hash = p_next_secret_hash,
        prev_generation = p_prev_generation, prev_secret_hash = p_prev_secret_hash,
        prev_rotated_at = p_prev_rotated_at, prev_wrapped_secret = p_prev_wrapped_secret,
        refreshed_at = p_now, idle_expires_at = p_idle_expires_at,
        claims = COALESCE(p_claims, claims)
    WHERE id = p_id AND generation = p_generation AND secret_hash = p_secret_hash
        AND revoked_at IS NULL
        AND idle_expires_at > p_now AND absolute_expires_at > p_now;
    -- Every matching row changes (its generation does), so the count is
    -- the same whether the client asked for found or changed rows.
    IF ROW_COUNT() > 0 THEN
        SELECT id, CONVERT(subject USING utf8mb4), generation, secret_hash,
            prev_generation, prev_secret_hash, prev_rotated_at, prev_wrapped_secret,
            created_at, refreshed_at, idle_expires_at, absolute_expires_at,
            revoked_at, revoked_reason, claims, user_agent, ip, label
        FROM {prefix}sessions WHERE id = p_id;
    END IF;
    COMMIT;
END;
