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
-- An entry holds at most 2,704 bytes: the columns are bounded by validation (type and lifecycle
-- 253 bytes, a reference's parts 63 each: under 1,100 bytes in all). A catalog written before
-- those bounds could hold a longer type or lifecycle; then the migration stops and names the
-- entities, since such a value has no place in an index (fix or remove them, then migrate again).
--
-- Run outside a transaction so that the catalog stays readable and writable: the indexes are built
-- CONCURRENTLY (an INVALID one left by a failed build is dropped first) and the old ones dropped
-- CONCURRENTLY after. Every statement may run again. Expand only: the indexes serve the previous
-- release's statements as the old ones did; the floor stays.

-- +goose NO TRANSACTION
-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE
    refs TEXT;
BEGIN
    SELECT string_agg(ref, ', ' ORDER BY ref) INTO refs FROM (
        SELECT ref FROM entities WHERE octet_length(spec_type) > 253 OR octet_length(lifecycle) > 253 ORDER BY ref LIMIT 20
    ) AS long;
    IF refs IS NOT NULL THEN
        RAISE EXCEPTION 'entities whose spec.type or spec.lifecycle is over 253 bytes cannot be indexed: %', refs
            USING HINT = 'Shorten those values in their catalog files and refresh, or unregister their locations; then run migrate up again.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               WHERE i.relname IN ('entities_lifecycle_cover', 'entities_type_cover') AND NOT x.indisvalid) THEN
        PERFORM set_config('lock_timeout', '10s', true);
        DROP INDEX IF EXISTS entities_lifecycle_cover;
        DROP INDEX IF EXISTS entities_type_cover;
    END IF;
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
CREATE INDEX CONCURRENTLY IF NOT EXISTS entities_lifecycle ON entities (lifecycle);
CREATE INDEX CONCURRENTLY IF NOT EXISTS entities_type ON entities (spec_type);
DROP INDEX CONCURRENTLY IF EXISTS entities_lifecycle_cover;
DROP INDEX CONCURRENTLY IF EXISTS entities_type_cover;
