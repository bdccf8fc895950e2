-- Issue 17: relations.source_ref is the declaring entity's ref, written with the relation, and
-- relations_target_source orders the relations naming an entity by type and declaring ref, so
-- reading an entity named by many others (a group owning most of the catalog) takes the first of
-- each type from the index instead of fetching every declaring entity (postgres/00027). SQLite is
-- served by one process: no earlier release writes beside this one, but the trigger keeps a row
-- written without the column (by hand, by a tool) readable.

-- +goose Up
ALTER TABLE relations ADD COLUMN source_ref TEXT;
UPDATE relations SET source_ref = (SELECT ref FROM entities WHERE id = relations.entity_id);
CREATE INDEX relations_target_source ON relations (target_ref, type, source_ref);
DROP INDEX relations_target;

-- +goose StatementBegin
CREATE TRIGGER relations_source_ref AFTER INSERT ON relations
    FOR EACH ROW WHEN NEW.source_ref IS NULL
BEGIN
    UPDATE relations SET source_ref = (SELECT ref FROM entities WHERE id = NEW.entity_id) WHERE rowid = NEW.rowid;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER relations_source_ref;
CREATE INDEX relations_target ON relations (target_ref, type);
DROP INDEX relations_target_source;
ALTER TABLE relations DROP COLUMN source_ref;
