-- Issue 17: how many entities of each type (over every lifecycle) and of each lifecycle (over
-- every type), of each kind and of every kind, have each owner and each system, so that the
-- owner and system facets of a filter by types alone or by lifecycles alone are read from the
-- rows of one key prefix: from entity_shape_refs (00033) they were summed over every lifecycle of
-- a type (services at a million entities: 36,122 owner rows and 77,936 system rows, 80-92 ms),
-- and a filter by lifecycles alone was grouped from its matches (production: 360 ms).
--
-- A row counts the entities whose axis ('type' or 'lifecycle') is axis_value, of its kind (''
-- every kind), whose field (owner or system) is value, empty values never; axis_value is kept
-- empty like any other (Resources have no lifecycle). Kept like entity_shape_refs: a catalog
-- apply counts what it writes itself and adds the differences before it commits
-- (catalog/store_counts.go) while these statement triggers stand aside
-- (portside.entity_shape_ref_rollups = 'counted', a setting of its own: an older release knows
-- nothing of this table); any other writer, an older release's apply included, is counted by the
-- triggers. Rows whose count fell to 0 stay until the value comes back. Expand only: a table, its
-- triggers, its backfill.

-- +goose Up
CREATE TABLE entity_shape_ref_rollups (
    field      TEXT COLLATE "C" NOT NULL,
    axis       TEXT COLLATE "C" NOT NULL,
    axis_value TEXT COLLATE "C" NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    value      TEXT COLLATE "C" NOT NULL,
    entities   BIGINT NOT NULL,
    -- The count is in the key's index too: a facet reads one key prefix's rows (services' 29,675
    -- systems at a million) without visiting the table, 28 -> 13 ms.
    PRIMARY KEY (field, axis, axis_value, kind, value) INCLUDE (entities)
);

-- +goose StatementBegin
-- entity_shape_ref_rollup_values lists the rows of entity_shape_ref_rollups an entity's columns
-- count it under: its owner and its system, each by its type and by its lifecycle, under its kind
-- and under '' (every kind), empty owners and systems left out. catalog/store_counts.go's
-- tally.sorted (rollups) is its twin.
CREATE FUNCTION entity_shape_ref_rollup_values(entity_kind TEXT, spec_type TEXT, lifecycle TEXT, owner_ref TEXT, system_ref TEXT)
RETURNS TABLE (field TEXT, axis TEXT, axis_value TEXT, kind TEXT, value TEXT) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT v.field, a.axis, a.axis_value, k.kind, v.value
    FROM (SELECT 'owner', owner_ref UNION ALL SELECT 'system', system_ref) AS v(field, value),
        (VALUES ('type', spec_type), ('lifecycle', lifecycle)) AS a(axis, axis_value),
        (VALUES (entity_kind), ('')) AS k(kind)
    WHERE v.value <> ''
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION entity_shape_ref_rollups_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('portside.entity_shape_ref_rollups', true) = 'counted' THEN
        RETURN NULL; -- the writing transaction counts what it writes itself
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM entity_shape_ref_rollups;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO entity_shape_ref_rollups AS c (field, axis, axis_value, kind, value, entities)
        SELECT v.field, v.axis, v.axis_value, v.kind, v.value, count(*)
        FROM new_rows r, entity_shape_ref_rollup_values(r.kind, r.spec_type, r.lifecycle, r.owner_ref, r.system_ref) AS v
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY v.field COLLATE "C", v.axis COLLATE "C", v.axis_value COLLATE "C", v.kind COLLATE "C", v.value COLLATE "C" -- key order, bytewise, as the apply writes
        ON CONFLICT (field, axis, axis_value, kind, value) DO UPDATE SET entities = c.entities + excluded.entities;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE entity_shape_ref_rollups AS c SET entities = c.entities - d.n FROM (
            SELECT v.field, v.axis, v.axis_value, v.kind, v.value, count(*) AS n
            FROM old_rows r, entity_shape_ref_rollup_values(r.kind, r.spec_type, r.lifecycle, r.owner_ref, r.system_ref) AS v
            GROUP BY 1, 2, 3, 4, 5
        ) AS d WHERE c.field = d.field AND c.axis = d.axis AND c.axis_value = d.axis_value
            AND c.kind = d.kind AND c.value = d.value;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER entity_shape_ref_rollups_insert AFTER INSERT ON entities REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_shape_ref_rollups_follow();
CREATE TRIGGER entity_shape_ref_rollups_update AFTER UPDATE ON entities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_shape_ref_rollups_follow();
CREATE TRIGGER entity_shape_ref_rollups_delete AFTER DELETE ON entities REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_shape_ref_rollups_follow();
CREATE TRIGGER entity_shape_ref_rollups_truncate AFTER TRUNCATE ON entities
    FOR EACH STATEMENT EXECUTE FUNCTION entity_shape_ref_rollups_follow();

-- The catalog already there, in key order.
INSERT INTO entity_shape_ref_rollups (field, axis, axis_value, kind, value, entities)
SELECT v.field, v.axis, v.axis_value, v.kind, v.value, count(*)
FROM entities e, entity_shape_ref_rollup_values(e.kind, e.spec_type, e.lifecycle, e.owner_ref, e.system_ref) AS v
GROUP BY 1, 2, 3, 4, 5
ORDER BY v.field COLLATE "C", v.axis COLLATE "C", v.axis_value COLLATE "C", v.kind COLLATE "C", v.value COLLATE "C";

-- +goose Down
DROP TRIGGER entity_shape_ref_rollups_truncate ON entities;
DROP TRIGGER entity_shape_ref_rollups_delete ON entities;
DROP TRIGGER entity_shape_ref_rollups_update ON entities;
DROP TRIGGER entity_shape_ref_rollups_insert ON entities;
DROP FUNCTION entity_shape_ref_rollups_follow();
DROP FUNCTION entity_shape_ref_rollup_values(TEXT, TEXT, TEXT, TEXT, TEXT);
DROP TABLE entity_shape_ref_rollups;
