-- Issue 17: on PostgreSQL the entities of each kind with a word starting with each prefix are
-- counted as they are written (postgres/00025), so that a search of one word counts its matches
-- without visiting them. SQLite counts a search's matches in its full-text index, one row per
-- entity, and needs no such table. Nothing changes here; the version exists because both dialects
-- carry the same migrations.

-- +goose Up

-- +goose Down
