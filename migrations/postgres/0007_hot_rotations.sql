-- jwt-rotate, PostgreSQL, migration 7: rotations as HOT updates.
--
-- Run by `PostgresStore::migrate` like migration 1; once released, it
-- never changes. Version 7: 4 to 6 are other features'.
--
-- PostgreSQL updates a row in place of its index entries (a HOT update:
-- no index touched, the new version on the same page) only when no
-- indexed column changes and the page has room. Every rotation moves
-- `idle_expires_at`, which the purge index of migration 1 covered, so no
-- rotation was HOT: each wrote three index entries and left them for
-- VACUUM.
--
-- purge_after: an instant at or before the session's expiry,
-- LEAST(idle_expires_at, absolute_expires_at), which purge finds by its
-- index and then checks against the expiry itself. A rotation extends the
-- expiry, so the bound it had stays true and need not change: the trigger
-- below moves it only when it lags more than half the way from the
-- rotation to the new expiry (once per half idle lifetime of a session
-- that keeps refreshing), or would pass a shortened expiry. Then purge
-- reads, besides the expired sessions, only those idle for over half
-- their idle lifetime.
--
-- Sessions stored before this migration get 0: true of every session and
-- written without rewriting the table (a constant default is only
-- recorded); each gets its own bound at its next rotation. Until then
-- purge reads them all (filtering by expiry as before), for at most one
-- session lifetime.
ALTER TABLE {prefix}sessions ADD COLUMN purge_after BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION {prefix}sessions_bound() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    expires BIGINT := LEAST(NEW.idle_expires_at, NEW.absolute_expires_at);
BEGIN
    IF TG_OP = 'INSERT'
       OR NEW.purge_after > expires
       OR NEW.purge_after - NEW.refreshed_at < (expires - NEW.refreshed_at) / 2 THEN
        NEW.purge_after := expires;
    END IF;
    RETURN NEW;
END
$$;

-- Fires for every statement that sets either expiry (an insert, a
-- rotation), and for no other update (revocations).
CREATE TRIGGER {prefix}sessions_bound
    BEFORE INSERT OR UPDATE OF idle_expires_at, absolute_expires_at ON {prefix}sessions
    FOR EACH ROW EXECUTE FUNCTION {prefix}sessions_bound();

DROP INDEX IF EXISTS {prefix}sessions_expiry;
CREATE INDEX {prefix}sessions_purge ON {prefix}sessions (purge_after);

-- Room on each page for the next versions of its rows, so that a rotation
-- finds it there. Measured by `examples/pg_hot_updates.rs` (100,000
-- sessions, 3,000 of them rotated three times): with pages filled to
-- 80 %, 3,000 of 3,000 rotations HOT in every round; filled to 100 %,
-- 168 of the first 3,000 (a first rotation fills in the grace columns
-- and the row outgrows its page), then 2,845 and 2,995. Applies to pages
-- filled from now on.
ALTER TABLE {prefix}sessions SET (fillfactor = 80);
