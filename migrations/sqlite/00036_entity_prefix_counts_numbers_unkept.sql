-- Issue 17: on PostgreSQL the prefix counts (postgres/00025) no longer keep the prefixes of more
-- than three digits alone, which no release since 00035 reads, and the schema's floor rises to
-- 00035. SQLite counts a search's matches in its full-text index and keeps no such table: nothing
-- an older release reads is gone, and its floor stays. Nothing changes
-- here; the version exists because both dialects carry the same migrations.

-- +goose Up

-- +goose Down
