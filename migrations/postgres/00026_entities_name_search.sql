-- Issue 17: a text search's page ordered by name walks the entities in name order and keeps
-- those the search matches. Along entities_name every entity walked is a heap row fetched, one
-- page each (a million entities: a word whose 51st match lies 236,000 names in took 0.7 s, the
-- median word 17 ms). entities_name_search holds what that walk reads, the search column
-- included, so the walk stays in the index (an index-only scan once VACUUM has marked the heap's
-- pages all-visible, which Portside does after an import; 0.2–0.4 µs an entity walked: 55 ms
-- and 4 ms). On a catalog already there the builds hold catalog writes (2–3 s at a million).
--
-- Partial: a B-tree entry holds at most 2,704 bytes, and the tsvector of 512 bytes of text stays
-- under 1,850 (the worst case: the 36 one-letter ASCII words, 10 bytes of lexeme, its entry and
-- its position for every 2 bytes of text, then one-letter words of other scripts and two-letter
-- words, 10 for every 3), the entry under 2,200 with the name, kind and ref that Backstage
-- bounds (63 characters a part). An entity with more text is not in it: its
-- search's page reads the few such entities through entities_search_long and merges them in
-- (catalog/store_search.go, coveredSearchBytes, which must equal the 512 here). The statistics on
-- the text's length let the planner know how few they are.
--
-- Expand only: new indexes and statistics; the floor stays.

-- +goose Up
CREATE INDEX entities_name_search ON entities (name, ref) INCLUDE (id, kind, search)
    WHERE octet_length(search_text) <= 512;
CREATE INDEX entities_search_long ON entities USING GIN (search) WHERE octet_length(search_text) > 512;
CREATE STATISTICS entities_search_text_bytes ON (octet_length(search_text)) FROM entities;
ANALYZE entities;

-- +goose Down
DROP STATISTICS entities_search_text_bytes;
DROP INDEX entities_search_long;
DROP INDEX entities_name_search;
