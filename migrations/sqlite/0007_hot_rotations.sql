-- jwt-rotate, migration 7: nothing to change here.
--
-- PostgreSQL's migration 7 lets rotations be HOT updates (no index entry
-- written when no indexed column changes), which this database has no
-- counterpart of: its purge index stays that of migration 1. Shipped so
-- that every database has the same migration versions. Once released, it
-- never changes. Its one statement reads no row (it checks that the
-- sessions table is there).
SELECT 1 FROM {prefix}sessions WHERE 1 = 0;
