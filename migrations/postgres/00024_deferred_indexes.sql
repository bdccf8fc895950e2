-- Issue 17: the first import into an empty catalog loads its rows first and builds the secondary
-- indexes after (store/deferred.go), as PostgreSQL's "Populating a Database" advises: at a million
-- entities, maintaining fourteen indexes row by row was most of the import's database time, and
-- one sorted build of each is a fraction of it. The indexes are dropped in a short transaction of
-- their own, so that readers are not locked out for the whole import, and each one's definition
-- is kept here until it is built again: by the import's own transaction before it commits, or,
-- should that fail or the process die, by the next catalog apply, `portside serve` at its start,
-- or `portside migrate up`.

-- +goose Up
CREATE TABLE deferred_indexes (
    name        TEXT PRIMARY KEY,
    table_name  TEXT NOT NULL,
    definition  TEXT NOT NULL,
    deferred_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE deferred_indexes;
