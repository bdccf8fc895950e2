-- Issue 17: on PostgreSQL the first import into an empty catalog builds its secondary indexes
-- after loading the rows, keeping their definitions in deferred_indexes meanwhile
-- (postgres/00024). SQLite's imports are small and in-process, and keep their indexes. Nothing
-- changes here; the version exists because both dialects carry the same migrations.

-- +goose Up

-- +goose Down
