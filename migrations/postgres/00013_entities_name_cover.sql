-- SQLite's migration 00013 adds an index for its text-search pages (see there). PostgreSQL plans
-- those pages from its full-text index and statistics; this version exists so that both dialects
-- carry the same versions.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
