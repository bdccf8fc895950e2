-- Issue 17: an entity's relations from other entities (a group's ownerOf, from its components'
-- ownedBy) are read by target_ref, and each came with its declaring entity's ref, looked up by
-- primary key and sorted. An entity named by 241,000 others (one group owning a catalog) took
-- 1.8 s to read, whatever the page of relations asked for: every declaring entity was fetched.
-- relations.source_ref is the declaring entity's ref, written with the relation, and
-- relations_target_source orders the relations naming an entity by type and declaring ref, so a
-- read takes the first of each type from the index and stops (catalog/store_entities.go,
-- RelationsOfTypeMax).
--
-- Run outside a transaction so that the catalog stays readable and writable while it runs:
-- - the column and its trigger are added in one short transaction, which waits at most a second
--   for the table at a time (a reader queued behind an apply's transaction would otherwise wait
--   for it too), and tries again each second for up to five minutes;
-- - the backfill commits every 10,000 entities' relations, so an apply removing relations waits
--   for a batch at most (and a deadlock with one costs a batch, not the migration);
-- - the index is built CONCURRENTLY (an INVALID one left by a failed build is dropped first) and
--   the old one dropped CONCURRENTLY after.
-- Every statement may run again: a migration stopped halfway is taken up where it stopped by the
-- next `migrate up`.
--
-- Expand only: the previous release inserts relations without source_ref; the trigger fills it
-- from the declaring entity (its WHEN clause keeps it from running for releases that write it),
-- and relations_target_source serves that release's reads by (target_ref, type) as
-- relations_target did. The floor stays.

-- +goose NO TRANSACTION
-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION relations_source_ref() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.source_ref := (SELECT ref FROM entities WHERE id = NEW.entity_id);
    RETURN NEW;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE
    attempts int := 0;
BEGIN
    PERFORM set_config('lock_timeout', '1s', true);
    LOOP
        BEGIN
            ALTER TABLE relations ADD COLUMN IF NOT EXISTS source_ref TEXT COLLATE "C";
            -- Rows written before the trigger: an apply still writing them held the table
            -- against this transaction until it committed, so the backfill below sees them all.
            CREATE OR REPLACE TRIGGER relations_source_ref BEFORE INSERT ON relations
                FOR EACH ROW WHEN (NEW.source_ref IS NULL) EXECUTE FUNCTION relations_source_ref();
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            attempts := attempts + 1;
            IF attempts >= 150 THEN
                RAISE EXCEPTION 'relations was held by other transactions through 150 attempts of a second each; run migrate up again when catalog applies are quieter';
            END IF;
            PERFORM pg_sleep(1);
        END;
    END LOOP;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE
    next bigint;
    last bigint;
BEGIN
    SELECT min(entity_id), max(entity_id) INTO next, last FROM relations WHERE source_ref IS NULL;
    WHILE next <= last LOOP
        UPDATE relations r SET source_ref = e.ref FROM entities e
            WHERE e.id = r.entity_id AND r.entity_id >= next AND r.entity_id < next + 10000 AND r.source_ref IS NULL;
        COMMIT;
        next := next + 10000;
    END LOOP;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
BEGIN
    -- This schema's index (to_regclass follows search_path), not one of that name in another
    -- schema of the database, which a build under way there shows as not valid.
    IF EXISTS (SELECT 1 FROM pg_index x
               WHERE x.indexrelid = to_regclass('relations_target_source') AND NOT x.indisvalid) THEN
        PERFORM set_config('lock_timeout', '10s', true);
        DROP INDEX relations_target_source;
    END IF;
END $$;
-- +goose StatementEnd

CREATE INDEX CONCURRENTLY IF NOT EXISTS relations_target_source ON relations (target_ref, type, source_ref);
DROP INDEX CONCURRENTLY IF EXISTS relations_target;
VACUUM (ANALYZE) relations;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS relations_target;
CREATE INDEX CONCURRENTLY relations_target ON relations (target_ref, type);
DROP INDEX CONCURRENTLY IF EXISTS relations_target_source;
DROP TRIGGER IF EXISTS relations_source_ref ON relations;
DROP FUNCTION IF EXISTS relations_source_ref();
ALTER TABLE relations DROP COLUMN IF EXISTS source_ref;
