-- Issue 17: on PostgreSQL the entities of each kind, namespace, type and lifecycle, and of those
-- each tag, are counted as they are written (postgres/00028), so that filters by those fields are
-- counted and faceted without visiting their matches. SQLite, the embedded default for catalogs
-- that fit in memory, groups the matches as before. Nothing changes here; the version exists
-- because both dialects carry the same migrations.

-- +goose Up

-- +goose Down
