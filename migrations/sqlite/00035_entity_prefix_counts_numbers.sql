-- Issue 17: on PostgreSQL entity_prefix_counts counts a number's first three digits only
-- (postgres/00035). SQLite has no such table (sqlite/00025). Nothing changes here; the version
-- exists because both dialects carry the same migrations.

-- +goose Up

-- +goose Down
