-- Issue 17: on PostgreSQL the release of this version reads no kept count of a prefix of more
-- than three digits alone (postgres/00035). SQLite has no such table (sqlite/00025). Nothing
-- changes here; the version exists because both dialects carry the same migrations.

-- +goose Up

-- +goose Down
