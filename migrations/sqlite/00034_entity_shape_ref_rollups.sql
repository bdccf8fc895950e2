-- Issue 17: how many entities of each type (over every lifecycle) and of each lifecycle (over
-- every type), of each kind and of every kind, have each owner and each system: the owner and
-- system facets of a filter by types alone or by lifecycles alone read these rows, as on
-- PostgreSQL since 00034.
--
-- On SQLite a view summing entity_shape_refs (00033), as entity_totals is a view summing
-- entity_counts: kept by row triggers of its own, its eight upserts an entity made the
-- 16,850-entity catalog's import 30 % slower (8.5-9.0 -> 11.1-11.6 s), where SQLite's catalogs
-- are small enough for the sums (the rows of a type's lifecycles, or of a lifecycle's types).
-- Columns as PostgreSQL's table: field, axis ('type' or 'lifecycle'), axis_value, kind ('' every
-- kind), value, entities. Expand only: a view.

-- +goose Up
CREATE VIEW entity_shape_ref_rollups (field, axis, axis_value, kind, value, entities) AS
SELECT field, 'type', spec_type, kind, value, SUM(entities) FROM entity_shape_refs GROUP BY field, spec_type, kind, value
UNION ALL
SELECT field, 'lifecycle', lifecycle, kind, value, SUM(entities) FROM entity_shape_refs GROUP BY field, lifecycle, kind, value;

-- +goose Down
DROP VIEW entity_shape_ref_rollups;
