-- jwt-rotate, SQLite, migration 3: per-session kind, authentication
-- context, last seen.
--
-- Run by the store's `migrate` like migration 1; once released, it never
-- changes. Version 3: migration 2 is DPoP's.
--
-- kind:      SessionInfo::kind, a short app-chosen string.
-- auth:      the authentication context (auth_time, amr, acr) as JSON;
--            NULL for a session stored before this migration.
-- last_seen: the client of the last refresh that said who it was (ip,
--            user agent) as JSON; its instant is refreshed_at. Apart from
--            user_agent/ip/label, which stay what was seen at login.
ALTER TABLE {prefix}sessions ADD COLUMN kind TEXT;
ALTER TABLE {prefix}sessions ADD COLUMN auth TEXT;
ALTER TABLE {prefix}sessions ADD COLUMN last_seen TEXT;
