-- jwt-rotate, PostgreSQL, migration 2: DPoP binding (RFC 9449).
--
-- The SHA-256 JWK thumbprint (RFC 7638) of the key a session is bound to,
-- as its 32 raw bytes; NULL for a session bound to no key. Set at login,
-- never changed. Not a secret: bound access tokens carry it in `cnf.jkt`.
ALTER TABLE {prefix}sessions ADD COLUMN IF NOT EXISTS jkt BYTEA
    CONSTRAINT {prefix}sessions_jkt CHECK (length(jkt) = 32);
