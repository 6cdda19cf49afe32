-- jwt-rotate, MySQL/MariaDB, migration 2: DPoP binding (RFC 9449).
--
-- The SHA-256 JWK thumbprint (RFC 7638) of the key a session is bound to,
-- as its 32 raw bytes; NULL for a session bound to no key. Set at login,
-- never changed. Not a secret: bound access tokens carry it in `cnf.jkt`.
--
-- MySQL commits around DDL, so this must do no harm when run again: MySQL
-- has no `ADD COLUMN IF NOT EXISTS` (MariaDB has), hence the check in a
-- procedure of its own, dropped again.
DROP PROCEDURE IF EXISTS {prefix}sessions_add_jkt;
CREATE PROCEDURE {prefix}sessions_add_jkt()
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = DATABASE() AND table_name = '{prefix}sessions'
            AND column_name = 'jkt'
    ) THEN
        ALTER TABLE {prefix}sessions ADD COLUMN jkt VARBINARY(32) NULL,
            ADD CONSTRAINT {prefix}sessions_jkt CHECK (LENGTH(jkt) = 32);
    END IF;
END;
CALL {prefix}sessions_add_jkt();
DROP PROCEDURE {prefix}sessions_add_jkt;

-- The rotation procedure of migration 1, now also returning `jkt` (the
-- column list `row::decode` reads).
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
            revoked_at, revoked_reason, claims, user_agent, ip, label, jkt
        FROM {prefix}sessions WHERE id = p_id;
    END IF;
    COMMIT;
END;
