-- Issue 17: entity_prefix_counts (00025) no longer keeps the prefixes of more than three digits
-- alone (0-9), which no release since 00035 reads (a search of four digits or more alone is
-- counted on its matches, the row of its first three digits bounding them: catalog/store_counts.go's
-- countedPrefix). They were nearly the whole table (1,269,646 of the 1,287,100 rows at a million
-- entities of the benchmark catalog), counted, sorted and copied by every first import.
--
-- A contract step on the table's rows, not its columns (no "+portside contract" line, which
-- names a table or column the Go code no longer names): it raises the schema's floor to 00035, the
-- first release that does not read them, as a release before it would count such searches from
-- rows that are gone. Whoever writes, the table keeps none of them from now on:
-- - entity_prefixes, which the triggers on entities count with, lists none (nor does 00025's
--   backfill when run again; a database migrated from before 00025 counts them there, and this
--   step removes them);
-- - a statement trigger removes any that an apply of release 00035 writes during a rolling upgrade
--   or after a rollback (it counts them still; nothing reads them) as its statement ends, so that
--   none is kept with a count no write corrects. After the statement, not before each row: that
--   apply copies into an empty table and checks that every row it copied is there.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entity_prefixes(search_text TEXT) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT left(w, n)
    FROM unnest(string_to_array(search_text, ' ')) AS w, generate_series(1, least(length(w), 32)) AS n
    WHERE w <> '' AND octet_length(w) < 2047 AND (n <= 3 OR left(w, n) ~ '[^0-9]')
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- Planned again at each statement (EXECUTE): a plan kept from an apply's few rows would probe the
-- key once per row of a release-00035 first import's million.
CREATE FUNCTION entity_prefix_counts_unkept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'DELETE FROM entity_prefix_counts AS c USING written w
        WHERE length(w.prefix) > 3 AND w.prefix !~ ''[^0-9]'' AND c.prefix = w.prefix AND c.kind = w.kind';
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- On INSERT only: no such row outlives the statement that inserted it, so no upsert finds one to
-- update.
CREATE TRIGGER entity_prefix_counts_unkept AFTER INSERT ON entity_prefix_counts REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION entity_prefix_counts_unkept();

DELETE FROM entity_prefix_counts WHERE length(prefix) > 3 AND prefix !~ '[^0-9]';

UPDATE schema_floor SET oldest_reader = 35;

-- +goose Down
-- The triggers stand aside first without locking the table (CREATE OR REPLACE), and are dropped
-- last: DROP TRIGGER holds the table against every search's count until the commit, which then
-- follows at once rather than after the recount.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entity_prefix_counts_unkept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entity_prefixes(search_text TEXT) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT left(w, n)
    FROM unnest(string_to_array(search_text, ' ')) AS w, generate_series(1, least(length(w), 32)) AS n
    WHERE w <> '' AND octet_length(w) < 2047
$$;
-- +goose StatementEnd

INSERT INTO entity_prefix_counts AS c (prefix, kind, entities)
SELECT p, e.kind, count(*) FROM entities e, entity_prefixes(e.search_text) AS p
WHERE length(p) > 3 AND p !~ '[^0-9]' GROUP BY p, e.kind
ON CONFLICT (prefix, kind) DO UPDATE SET entities = excluded.entities;

UPDATE schema_floor SET oldest_reader = 0;

DROP TRIGGER entity_prefix_counts_unkept ON entity_prefix_counts;
DROP FUNCTION entity_prefix_counts_unkept();
