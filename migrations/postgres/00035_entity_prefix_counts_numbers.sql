-- Issue 17: entity_prefix_counts (00025) counts no prefix of more than three digits alone (0-9).
-- Counting every prefix of every number kept a row for nearly each number and kind, numbers
-- being mostly their entity's own (a serial in its name, a ticket, a port): 1,276,516 of the
-- 1,287,100 rows at a million entities of the benchmark catalog, counted, sorted and copied by
-- every first import. A search of four digits or more is counted on its matches, which are few
-- (as every search was before 00025), the row of its first three digits bounding them
-- (catalog/store_search.go's fewMatches); a search of up to three digits, and every word with a
-- letter ("2024rc1", "v2"), is counted from its row as before.
--
-- A release before this one, still serving during a rolling upgrade, reads a count of zero for a
-- search of four digits or more (the rows are gone) until it is replaced; its pages are read from
-- the entities and stay right. Its applies still write such rows; they are never read again.

-- +goose Up
-- +goose StatementBegin
-- entity_prefixes lists the distinct prefixes of an entity's words (its search_text), each once,
-- those of digits alone up to three: what entity_prefix_counts counts the entity under.
-- catalog/store_counts.go's sortedWords and prefixesAfter are its twin.
CREATE OR REPLACE FUNCTION entity_prefixes(search_text TEXT) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT left(w, n)
    FROM unnest(string_to_array(search_text, ' ')) AS w, generate_series(1, least(length(w), 32)) AS n
    WHERE w <> '' AND octet_length(w) < 2047 AND (n <= 3 OR left(w, n) !~ '^[0-9]+$')
$$;
-- +goose StatementEnd

DELETE FROM entity_prefix_counts WHERE prefix ~ '^[0-9]{4,}$';

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entity_prefixes(search_text TEXT) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT left(w, n)
    FROM unnest(string_to_array(search_text, ' ')) AS w, generate_series(1, least(length(w), 32)) AS n
    WHERE w <> '' AND octet_length(w) < 2047
$$;
-- +goose StatementEnd

-- The prefixes of four digits and more, counted again.
INSERT INTO entity_prefix_counts AS c (prefix, kind, entities)
SELECT p, e.kind, count(*) FROM entities e, entity_prefixes(e.search_text) AS p
WHERE p ~ '^[0-9]{4,}$' GROUP BY p, e.kind
ON CONFLICT (prefix, kind) DO UPDATE SET entities = excluded.entities;
