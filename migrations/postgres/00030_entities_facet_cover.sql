-- Issue 17: on SQLite the indexes of type and lifecycle hold the columns pages, counts and facets
-- of a filter by those fields read, and an index by id those of facets of matches found by id
-- (sqlite/00030). PostgreSQL's indexes of type and lifecycle hold them since 00029, and its counts
-- and facets of those filters are kept (00028). Nothing changes here; the version exists because
-- both dialects carry the same migrations.

-- +goose Up

-- +goose Down
