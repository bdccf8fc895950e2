-- Issue 17: SQLite, the embedded default, read a filter's matches from their rows, and an
-- entity's row holds its whole document: at 100,000 entities, services in production (24,877
-- entities) took 250 ms for a page with its total and 300 ms for their facets, the facets of
-- tag java (19,173 entities) 200 ms, reading every match's row for a few short columns.
--
-- The indexes of type and lifecycle now hold what a page, a count and facets of a filter by
-- those fields read (the other of the two, then name and ref in the page's order, kind,
-- namespace, owner and system), as PostgreSQL's do since 00029 (which has no page order: its
-- pages walk the name index): the page above 4 ms, its total 3 ms, the owners and systems of
-- its matches 22 ms. entities_facet_rows holds those columns by id, for the facets of matches
-- found by id (a tag's entities, a text search's), which facets name (the planner reads the rows
-- by primary key otherwise): tag java's 55-99 → 30 ms.
--
-- The narrow indexes of type and lifecycle stay: a text search with a lifecycle counts its
-- matches by probing (lifecycle, rowid) for each of the full-text index's rowids, which the wide
-- ones cannot be probed by (25 ms at the bench catalog's size; 162 ms through the rows).
--
-- Expand only: indexes, built in the migration's transaction (about a second at 100,000 entities).

-- +goose Up
CREATE INDEX entities_type_cover ON entities (spec_type, lifecycle, name, ref, kind, namespace, owner_ref, system_ref);
CREATE INDEX entities_lifecycle_cover ON entities (lifecycle, spec_type, name, ref, kind, namespace, owner_ref, system_ref);
CREATE INDEX entities_facet_rows ON entities (id, kind, namespace, spec_type, lifecycle, owner_ref, system_ref);
-- Statistics of the new indexes from a sample, as the catalog's imports gather them
-- (catalog.Analyze); without them the planner guesses until the next import or refresh.
PRAGMA analysis_limit = 400;
ANALYZE entities;
PRAGMA analysis_limit = 0;

-- +goose Down
DROP INDEX entities_facet_rows;
DROP INDEX entities_lifecycle_cover;
DROP INDEX entities_type_cover;
