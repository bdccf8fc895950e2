-- Issue 17: facets of owner and system over a filter by lifecycle or type read each matching
-- entity's owner_ref and system_ref, and for a filter matching most of the catalog those of the
-- entities it does not match (catalog/store_facets.go, restFacets): a heap row each. At a million
-- entities, the owners and systems of lifecycle production (the rest: 495,372 entities) took
-- 1.6-1.9 s, reading 1.6 GB of rows for 70 bytes of each. entities_lifecycle and entities_type
-- now hold every column a facet or a shape filter reads (kind, namespace, type, lifecycle, owner,
-- system and the id), so those reads stay in the index (an index-only scan once VACUUM has marked
-- the pages all-visible, which Portside does after bulk changes): 0.3 s for the same facets. Each
-- index is about 120 MB at a million entities (7 MB before); a first import builds them with the
-- other deferred indexes (2 s each at a million).
--
-- An entry holds at most 2,704 bytes: the columns are bounded by validation since this release
-- (type and lifecycle 253 bytes, a reference's parts 63 each: under 1,100 bytes in all). A catalog
-- written before could hold longer values; the entries of those whose columns pass 2,600 bytes
-- together could not be built, so the migration stops first and names them (fix or remove them in
-- their catalog files, refresh, then migrate again). Longer values that fit are indexed as they are.
--
-- Run outside a transaction so that the catalog stays readable and writable: the indexes are built
-- CONCURRENTLY (an INVALID one left by a failed build is dropped first) and the old ones dropped
-- CONCURRENTLY after. Every statement may run again. Expand only: the indexes serve the previous
-- release's statements as the old ones did; the floor stays.

-- +goose NO TRANSACTION
-- +goose Up
-- +goose StatementBegin
-- drop_invalid_indexes drops those of the named indexes of this schema a stopped CONCURRENTLY
-- build left INVALID (which IF NOT EXISTS would keep), each waiting 10 s at most for its table;
-- kept for later migrations that build indexes concurrently.
CREATE OR REPLACE FUNCTION drop_invalid_indexes(names TEXT[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    ix TEXT;
BEGIN
    FOREACH ix IN ARRAY names LOOP
        IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(ix) AND NOT indisvalid) THEN
            PERFORM set_config('lock_timeout', '10s', true);
            EXECUTE format('DROP INDEX %I', ix);
        END IF;
    END LOOP;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE
    n BIGINT;
    refs TEXT;
    targets TEXT;
BEGIN
    CREATE TEMPORARY TABLE too_long ON COMMIT DROP AS
        SELECT ref, location_id FROM entities
        WHERE octet_length(kind) + octet_length(namespace) + octet_length(spec_type) + octet_length(lifecycle)
            + octet_length(owner_ref) + octet_length(system_ref) > 2600;
    SELECT count(*) INTO n FROM too_long;
    IF n > 0 THEN
        SELECT string_agg(ref, ', ' ORDER BY ref) INTO refs FROM (SELECT ref FROM too_long ORDER BY ref LIMIT 20) AS first;
        SELECT string_agg(DISTINCT l.target, ', ') INTO targets FROM too_long t JOIN locations l ON l.id = t.location_id;
        RAISE EXCEPTION '% entities have a type, lifecycle, owner and system too long together (over 2,600 bytes) for an index entry: %',
            n, refs
            USING HINT = 'Shorten them in their catalog files (locations: ' || coalesce(targets, 'none') ||
                '), refresh, or unregister those locations; then run migrate up again.';
    END IF;
    -- A build stopped halfway leaves its index INVALID, which IF NOT EXISTS would then keep.
    PERFORM drop_invalid_indexes(ARRAY['entities_lifecycle_cover', 'entities_type_cover']);
END $$;
-- +goose StatementEnd

CREATE INDEX CONCURRENTLY IF NOT EXISTS entities_lifecycle_cover ON entities (lifecycle)
    INCLUDE (kind, namespace, spec_type, owner_ref, system_ref, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS entities_type_cover ON entities (spec_type)
    INCLUDE (kind, namespace, lifecycle, owner_ref, system_ref, id);
DROP INDEX CONCURRENTLY IF EXISTS entities_lifecycle;
DROP INDEX CONCURRENTLY IF EXISTS entities_type;
VACUUM (ANALYZE) entities;

-- +goose Down
SELECT drop_invalid_indexes(ARRAY['entities_lifecycle', 'entities_type']);

CREATE INDEX CONCURRENTLY IF NOT EXISTS entities_lifecycle ON entities (lifecycle);
CREATE INDEX CONCURRENTLY IF NOT EXISTS entities_type ON entities (spec_type);
DROP INDEX CONCURRENTLY IF EXISTS entities_lifecycle_cover;
DROP INDEX CONCURRENTLY IF EXISTS entities_type_cover;
DROP FUNCTION IF EXISTS drop_invalid_indexes(TEXT[]);
