-- jwt-rotate, MySQL 8.0.16+ / MariaDB 10.6+, migration 5: status
-- indexes, for token status lists (draft-ietf-oauth-status-list); the
-- rotate procedure returns the index with the rest of the row.
--
-- Run by `MySqlStore::migrate` like migration 1, and like it written so
-- that every statement can run again without harm (MySQL commits around
-- DDL). Once released, it never changes. Version 5: 4 and 6 are other
-- features'.
--
-- status_index: the session's index in the status lists. An
-- AUTO_INCREMENT column (MySQL has no sequence), so the INSERT that
-- creates a session gives it the next index in the same statement, and
-- the counter (persisted by InnoDB since MySQL 8.0 and MariaDB 10.2.4)
-- never hands one out twice, even after a purge. Every row gets one,
-- sessions of plain `create` and those already stored included: unique
-- and harmless. Its unique key also serves the list's range read.
DROP PROCEDURE IF EXISTS {prefix}sessions_migrate_5;
CREATE PROCEDURE {prefix}sessions_migrate_5()
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{prefix}sessions'
            AND COLUMN_NAME = 'status_index') THEN
        ALTER TABLE {prefix}sessions
            ADD COLUMN status_index BIGINT NOT NULL AUTO_INCREMENT,
            ADD UNIQUE KEY {prefix}sessions_status_index (status_index);
    END IF;
END;
CALL {prefix}sessions_migrate_5();
DROP PROCEDURE IF EXISTS {prefix}sessions_migrate_5;

-- As migration 3's, returning status_index as well.
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
    IN p_claims              MEDIUMTEXT CHARACTER SET utf8mb4,
    IN p_last_seen           TEXT CHARACTER SET utf8mb4,
    IN p_auth                TEXT CHARACTER SET utf8mb4)
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
        claims = COALESCE(p_claims, claims),
        last_seen = COALESCE(p_last_seen, last_seen),
        auth = COALESCE(p_auth, auth)
    WHERE id = p_id AND generation = p_generation AND secret_hash = p_secret_hash
        AND revoked_at IS NULL
        AND idle_expires_at > p_now AND absolute_expires_at > p_now;
    IF ROW_COUNT() > 0 THEN
        SELECT id, CONVERT(subject USING utf8mb4), generation, secret_hash,
            prev_generation, prev_secret_hash, prev_rotated_at, prev_wrapped_secret,
            created_at, refreshed_at, idle_expires_at, absolute_expires_at,
            revoked_at, revoked_reason, claims, user_agent, ip, label,
            kind, auth, last_seen, jkt, status_index
        FROM {prefix}sessions WHERE id = p_id;
    END IF;
    COMMIT;
END;
