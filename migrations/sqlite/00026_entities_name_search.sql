-- Issue 17: on PostgreSQL a text search's page ordered by name walks an index that holds the
-- search column (postgres/00026). SQLite reads such pages along entities_name_cover (00013) and
-- its full-text index; nothing changes here. The version exists because both dialects carry the
-- same migrations.

-- +goose Up

-- +goose Down
