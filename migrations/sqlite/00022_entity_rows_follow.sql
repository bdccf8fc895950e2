-- Issue 17: on PostgreSQL an entity's tags, annotations and relations are removed with it by a
-- statement trigger instead of by foreign keys, whose per-row checks were a third of a large
-- import's database time, and relations lose their unused id key (postgres/00022). SQLite keeps
-- its foreign keys: a check there is a lookup in the same process, its imports are small (the
-- embedded default is for catalogs that fit in memory), and changing a key means rebuilding the
-- table. relations.id stays SQLite's rowid. Nothing changes here; the version exists because both
-- dialects carry the same migrations.

-- +goose Up

-- +goose Down
