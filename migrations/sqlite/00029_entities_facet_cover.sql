-- Issue 17: on PostgreSQL the indexes of lifecycle and type hold the columns facets read, so that
-- facets of owner and system over a filter by those fields stay in the index (postgres/00029).
-- SQLite, the embedded default for catalogs that fit in memory, reads the rows as before. Nothing
-- changes here; the version exists because both dialects carry the same migrations.

-- +goose Up

-- +goose Down
