-- Issue 17: SQLite counts, as PostgreSQL has since 00034, how many entities of each type (over
-- every lifecycle) and of each lifecycle (over every type), of each kind and of every kind, have
-- each owner and each system, so that the owner and system facets of a filter by types alone or
-- by lifecycles alone are read from the rows of one key prefix rather than summed over
-- entity_shape_refs (00033) or grouped from every match.
--
-- A row counts the entities whose axis ('type' or 'lifecycle') is axis_value, of its kind (''
-- every kind), whose field (owner or system) is value, empty values never. Kept by row triggers,
-- as entity_shape_refs is here. Rows whose count fell to 0 stay until the value comes back.
-- Expand only: a table, its triggers, its backfill.

-- +goose Up
CREATE TABLE entity_shape_ref_rollups (
    field      TEXT    NOT NULL,
    axis       TEXT    NOT NULL,
    axis_value TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    entities   INTEGER NOT NULL,
    PRIMARY KEY (field, axis, axis_value, kind, value)
) WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER entity_shape_ref_rollups_insert AFTER INSERT ON entities BEGIN
    INSERT INTO entity_shape_ref_rollups (field, axis, axis_value, kind, value, entities)
    SELECT v.field, a.axis, a.axis_value, k.kind, v.value, 1
    FROM (SELECT 'owner' AS field, new.owner_ref AS value UNION ALL SELECT 'system', new.system_ref) AS v,
        (SELECT 'type' AS axis, new.spec_type AS axis_value UNION ALL SELECT 'lifecycle', new.lifecycle) AS a,
        (SELECT new.kind AS kind UNION ALL SELECT '') AS k
    WHERE v.value <> ''
    ON CONFLICT (field, axis, axis_value, kind, value) DO UPDATE SET entities = entities + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER entity_shape_ref_rollups_delete AFTER DELETE ON entities BEGIN
    UPDATE entity_shape_ref_rollups SET entities = entities - 1
    WHERE ((axis = 'type' AND axis_value = old.spec_type) OR (axis = 'lifecycle' AND axis_value = old.lifecycle)) AND kind IN (old.kind, '')
        AND ((field = 'owner' AND value = old.owner_ref) OR (field = 'system' AND value = old.system_ref));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER entity_shape_ref_rollups_update AFTER UPDATE OF kind, spec_type, lifecycle, owner_ref, system_ref ON entities BEGIN
    UPDATE entity_shape_ref_rollups SET entities = entities - 1
    WHERE ((axis = 'type' AND axis_value = old.spec_type) OR (axis = 'lifecycle' AND axis_value = old.lifecycle)) AND kind IN (old.kind, '')
        AND ((field = 'owner' AND value = old.owner_ref) OR (field = 'system' AND value = old.system_ref));
    INSERT INTO entity_shape_ref_rollups (field, axis, axis_value, kind, value, entities)
    SELECT v.field, a.axis, a.axis_value, k.kind, v.value, 1
    FROM (SELECT 'owner' AS field, new.owner_ref AS value UNION ALL SELECT 'system', new.system_ref) AS v,
        (SELECT 'type' AS axis, new.spec_type AS axis_value UNION ALL SELECT 'lifecycle', new.lifecycle) AS a,
        (SELECT new.kind AS kind UNION ALL SELECT '') AS k
    WHERE v.value <> ''
    ON CONFLICT (field, axis, axis_value, kind, value) DO UPDATE SET entities = entities + 1;
END;
-- +goose StatementEnd

INSERT INTO entity_shape_ref_rollups (field, axis, axis_value, kind, value, entities)
SELECT 'owner', 'type', spec_type, kind, owner_ref, count(*) FROM entities WHERE owner_ref <> '' GROUP BY 3, 4, 5
UNION ALL SELECT 'owner', 'type', spec_type, '', owner_ref, count(*) FROM entities WHERE owner_ref <> '' GROUP BY 3, 5
UNION ALL SELECT 'owner', 'lifecycle', lifecycle, kind, owner_ref, count(*) FROM entities WHERE owner_ref <> '' GROUP BY 3, 4, 5
UNION ALL SELECT 'owner', 'lifecycle', lifecycle, '', owner_ref, count(*) FROM entities WHERE owner_ref <> '' GROUP BY 3, 5
UNION ALL SELECT 'system', 'type', spec_type, kind, system_ref, count(*) FROM entities WHERE system_ref <> '' GROUP BY 3, 4, 5
UNION ALL SELECT 'system', 'type', spec_type, '', system_ref, count(*) FROM entities WHERE system_ref <> '' GROUP BY 3, 5
UNION ALL SELECT 'system', 'lifecycle', lifecycle, kind, system_ref, count(*) FROM entities WHERE system_ref <> '' GROUP BY 3, 4, 5
UNION ALL SELECT 'system', 'lifecycle', lifecycle, '', system_ref, count(*) FROM entities WHERE system_ref <> '' GROUP BY 3, 5;

-- +goose Down
DROP TRIGGER entity_shape_ref_rollups_update;
DROP TRIGGER entity_shape_ref_rollups_delete;
DROP TRIGGER entity_shape_ref_rollups_insert;
DROP TABLE entity_shape_ref_rollups;
