-- Issue 17: the compatibility floor. oldest_reader is the lowest schema version (a release's
-- latest migration) that may still run on this schema. Expand migrations leave it alone, so an
-- older release keeps starting on a newer schema during a rolling upgrade and after a rollback;
-- a contract migration raises it to the version of the first release that no longer reads what
-- it removes (migrations/expand_test.go insists). One row, id 1.

-- +goose Up
CREATE TABLE schema_floor (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    oldest_reader BIGINT  NOT NULL DEFAULT 0
);
INSERT INTO schema_floor (id, oldest_reader) VALUES (1, 0);

-- +goose Down
DROP TABLE schema_floor;
