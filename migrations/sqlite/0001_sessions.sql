-- jwt-rotate, SQLite, migration 1: the sessions table.
--
-- Run by `SqliteStore::migrate`, which replaces {prefix} with the store's
-- table prefix (default `jwt_rotate_`), runs this file in one
-- `BEGIN IMMEDIATE` transaction and records it in {prefix}migrations.
-- A migration, once released, never changes: its checksum is recorded.
--
-- One row per session, whatever the number of rotations. Instants are
-- integer microseconds since 1970-01-01 UTC. No column holds a token or a
-- secret: only SHA-256 hashes and the grace-wrapped secret, which is
-- useless without the previous token.
CREATE TABLE IF NOT EXISTS {prefix}sessions (
    id                  BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    subject             TEXT    NOT NULL,
    generation          INTEGER NOT NULL CHECK (generation >= 0),
    secret_hash         BLOB    NOT NULL CHECK (length(secret_hash) = 32),
    -- The previous generation, for grace replay: all four set or none.
    prev_generation     INTEGER,
    prev_secret_hash    BLOB    CHECK (length(prev_secret_hash) = 32),
    prev_rotated_at     INTEGER,
    prev_wrapped_secret BLOB    CHECK (length(prev_wrapped_secret) = 32),
    created_at          INTEGER NOT NULL,
    refreshed_at        INTEGER NOT NULL,
    idle_expires_at     INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    -- Set once, never cleared; the reason is `RevocationReason::as_str`.
    revoked_at          INTEGER,
    revoked_reason      TEXT,
    -- The application's claims, a JSON object.
    claims              TEXT    NOT NULL,
    user_agent          TEXT,
    ip                  TEXT,
    label               TEXT,
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
    CHECK ((prev_generation IS NULL) = (prev_secret_hash IS NULL)
       AND (prev_generation IS NULL) = (prev_rotated_at IS NULL)
       AND (prev_generation IS NULL) = (prev_wrapped_secret IS NULL))
) STRICT;

-- `sessions` and `revoke_subject` read only live sessions of one subject.
CREATE INDEX IF NOT EXISTS {prefix}sessions_subject
    ON {prefix}sessions (subject) WHERE revoked_at IS NULL;

-- `purge_expired` deletes by the earlier expiry; the query repeats this
-- exact expression so the index is used.
CREATE INDEX IF NOT EXISTS {prefix}sessions_expiry
    ON {prefix}sessions (min(idle_expires_at, absolute_expires_at));
