-- jwt-rotate, PostgreSQL, migration 6: the DPoP replay cache (RFC 9449,
-- section 11.1), shared by every server on this database.
--
-- Run by the store's `migrate` like migration 1; once released, it never
-- changes. Versions 4 and 5 are left to other changes: the runner applies
-- whatever is not recorded, in order, so a gap does no harm.
--
-- One row per DPoP proof accepted: SHA-256 of its key's thumbprint and its
-- `jti` (`ReplayKey`), kept until `expires_at` (microseconds since
-- 1970-01-01 UTC), after which the proof is stale anyway. An expired row
-- counts as absent and is overwritten; `purge_expired` deletes them.
CREATE TABLE IF NOT EXISTS {prefix}dpop_replay (
    jti_hash   BYTEA  NOT NULL PRIMARY KEY CHECK (length(jti_hash) = 32),
    expires_at BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS {prefix}dpop_replay_expiry
    ON {prefix}dpop_replay (expires_at);
