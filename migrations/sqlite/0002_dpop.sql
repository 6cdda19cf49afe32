-- jwt-rotate, SQLite, migration 2: DPoP binding (RFC 9449).
--
-- The SHA-256 JWK thumbprint (RFC 7638) of the key a session is bound to,
-- as its 32 raw bytes; NULL for a session bound to no key. Set at login,
-- never changed. Not a secret: bound access tokens carry it in `cnf.jkt`.
-- Runs in the same transaction as its record, so it runs once.
ALTER TABLE {prefix}sessions ADD COLUMN jkt BLOB CHECK (length(jkt) = 32);
