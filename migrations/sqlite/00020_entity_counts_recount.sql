-- Issue 17: on PostgreSQL, a bulk apply tells the statement triggers of 00019 to stand aside for
-- its transaction and counts the entities once, at its end (postgres/00020). SQLite keeps its row
-- triggers as they are: its imports are small (the embedded default is for catalogs that fit in
-- memory; the bench catalog's 16,851 entities imported within noise of the time without counts,
-- bench/README.md), and it has no session setting a trigger could read. Nothing changes here; the
-- version exists because both dialects carry the same migrations.

-- +goose Up

-- +goose Down
