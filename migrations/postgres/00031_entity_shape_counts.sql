-- Issue 17: SQLite keeps entity_shape_counts too, by row triggers (sqlite/00031); PostgreSQL has
-- kept it since 00028. Nothing changes here; the version exists because both dialects carry the
-- same migrations.

-- +goose Up

-- +goose Down
