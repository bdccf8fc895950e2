-- Issue 17: an entity's relations from other entities (a group's ownerOf, from its components'
-- ownedBy) are read by target_ref, and each came with its declaring entity's ref, looked up by
-- primary key and sorted. An entity named by 241,000 others (one group owning a catalog) took
-- 1.8 s to read, whatever the page of relations asked for: every declaring entity was fetched.
-- relations.source_ref is the declaring entity's ref, written with the relation, and
-- relations_target_source orders the relations naming an entity by type and declaring ref, so a
-- read takes the first of each type from the index and stops (catalog/store_entities.go,
-- relationsReadMax).
--
-- Run outside a transaction so that the catalog stays readable and writable while it runs: the
-- column is added at once (no default: no table rewrite), the backfill is one UPDATE (readers are
-- not blocked; an apply removing the same rows waits for it), the index is built CONCURRENTLY and
-- the old one dropped after. Every statement may run again: a migration stopped halfway is taken
-- up where it stopped by the next `migrate up`. An index left INVALID by a failed concurrent build
-- is dropped and built again.
--
-- Expand only: the previous release inserts relations without source_ref; the trigger fills it
-- from the declaring entity (its WHEN clause keeps it from running for releases that write it),
-- and relations_target_source serves that release's reads by (target_ref, type) as
-- relations_target did. The floor stays.

-- +goose NO TRANSACTION
-- +goose Up
ALTER TABLE relations ADD COLUMN IF NOT EXISTS source_ref TEXT COLLATE "C";

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION relations_source_ref() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.source_ref := (SELECT ref FROM entities WHERE id = NEW.entity_id);
    RETURN NEW;
END $$;
-- +goose StatementEnd

DROP TRIGGER IF EXISTS relations_source_ref ON relations;
CREATE TRIGGER relations_source_ref BEFORE INSERT ON relations
    FOR EACH ROW WHEN (NEW.source_ref IS NULL) EXECUTE FUNCTION relations_source_ref();

-- Rows written before the trigger: an apply still writing them held the table against
-- CREATE TRIGGER until it committed, so they are all visible here.
UPDATE relations r SET source_ref = e.ref FROM entities e WHERE e.id = r.entity_id AND r.source_ref IS NULL;

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               WHERE i.relname = 'relations_target_source' AND NOT x.indisvalid) THEN
        DROP INDEX relations_target_source;
    END IF;
END $$;
-- +goose StatementEnd

CREATE INDEX CONCURRENTLY IF NOT EXISTS relations_target_source ON relations (target_ref, type, source_ref);
DROP INDEX CONCURRENTLY IF EXISTS relations_target;
VACUUM (ANALYZE) relations;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS relations_target ON relations (target_ref, type);
DROP INDEX CONCURRENTLY IF EXISTS relations_target_source;
DROP TRIGGER IF EXISTS relations_source_ref ON relations;
DROP FUNCTION IF EXISTS relations_source_ref();
ALTER TABLE relations DROP COLUMN IF EXISTS source_ref;
