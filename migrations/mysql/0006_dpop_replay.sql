-- jwt-rotate, MySQL/MariaDB, migration 6: the DPoP replay cache (RFC 9449,
-- section 11.1), shared by every server on this database.
--
-- Run by the store's `migrate` like migration 1 (every statement can run
-- again without harm); once released, it never changes. Versions 4 and 5
-- are left to other changes: the runner applies whatever is not recorded,
-- in order, so a gap does no harm.
--
-- One row per DPoP proof accepted: SHA-256 of its key's thumbprint and its
-- `jti` (`ReplayKey`), kept until `expires_at` (microseconds since
-- 1970-01-01 UTC), after which the proof is stale anyway. An expired row
-- counts as absent and is replaced; `purge_expired` deletes them.
CREATE TABLE IF NOT EXISTS {prefix}dpop_replay (
    jti_hash   VARBINARY(32) NOT NULL PRIMARY KEY,
    expires_at BIGINT        NOT NULL,
    INDEX {prefix}dpop_replay_expiry (expires_at)
) ENGINE = InnoDB;

-- The insert-if-absent of `insert_dpop_jti` in one round trip: MySQL's
-- `INSERT ... ON DUPLICATE KEY UPDATE` cannot tell a live duplicate from
-- a new row by its row count when the client asks for found rows (sqlx
-- does). In one transaction: the row is inserted unless one with this key
-- is there; if one is, it is taken over only if expired. The insert comes
-- first so that no gap lock is taken (two of those would deadlock the
-- inserts); concurrent inserts of one new key wait for the first, then
-- find it live. Two calls taking over one expired row at once may
-- deadlock: the loser gets a retryable error, never a second row. A row
-- comes back only when this call remembered the key.
DROP PROCEDURE IF EXISTS {prefix}dpop_replay_insert;
CREATE PROCEDURE {prefix}dpop_replay_insert(
    IN p_jti_hash   VARBINARY(32),
    IN p_expires_at BIGINT,
    IN p_now        BIGINT)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;
    START TRANSACTION;
    INSERT IGNORE INTO {prefix}dpop_replay (jti_hash, expires_at)
        VALUES (p_jti_hash, p_expires_at);
    IF ROW_COUNT() > 0 THEN
        SELECT 1;
    -- A plain read first: concurrent callers all hold the live row's
    -- shared lock here, and an UPDATE from each would deadlock them.
    ELSEIF EXISTS (SELECT 1 FROM {prefix}dpop_replay
                   WHERE jti_hash = p_jti_hash AND expires_at <= p_now) THEN
        -- Matched only if expired; the new expiry is later, so the row
        -- changes and the count is the same for found or changed rows.
        UPDATE {prefix}dpop_replay SET expires_at = p_expires_at
            WHERE jti_hash = p_jti_hash AND expires_at <= p_now;
        IF ROW_COUNT() > 0 THEN
            SELECT 1;
        END IF;
    END IF;
    COMMIT;
END;
