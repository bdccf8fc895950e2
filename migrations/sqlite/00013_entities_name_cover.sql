-- The keys of a page ordered by name, in name order, in one index: a text search that matches
-- thousands of entities (a one-letter search as someone starts typing) reads its first page by
-- walking this index and keeping the entities the search matched, instead of reading every
-- matched entity's row and sorting them all (catalog/store_query.go, findKeys).

-- +goose Up
CREATE INDEX entities_name_cover ON entities (name, ref, kind, updated_at);

-- +goose Down
DROP INDEX entities_name_cover;
