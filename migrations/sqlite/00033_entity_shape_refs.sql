-- Issue 17: SQLite counts, as PostgreSQL has since 00033, how many entities of each type, lifecycle
-- and kind (and of every kind) have each owner and each system, so that the owner and system
-- facets of a filter by types are read from a few rows rather than grouped from every match.
-- entity_shape_counts (00031) answers its other facets.
--
-- A row counts the entities of its type, lifecycle and kind ('': every kind) whose field (owner or
-- system) is value, empty values never. Kept by row triggers, as entity_shape_counts is here.
-- Rows whose count fell to 0 stay until the value comes back. Expand only: a table, its
-- triggers, its backfill.

-- +goose Up
CREATE TABLE entity_shape_refs (
    field     TEXT    NOT NULL,
    spec_type TEXT    NOT NULL,
    lifecycle TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    entities  INTEGER NOT NULL,
    PRIMARY KEY (field, spec_type, lifecycle, kind, value)
) WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER entity_shape_refs_insert AFTER INSERT ON entities BEGIN
    INSERT INTO entity_shape_refs (field, spec_type, lifecycle, kind, value, entities)
    SELECT v.field, new.spec_type, new.lifecycle, k.kind, v.value, 1
    FROM (SELECT 'owner' AS field, new.owner_ref AS value UNION ALL SELECT 'system', new.system_ref) AS v,
        (SELECT new.kind AS kind UNION ALL SELECT '') AS k
    WHERE v.value <> ''
    ON CONFLICT (field, spec_type, lifecycle, kind, value) DO UPDATE SET entities = entities + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER entity_shape_refs_delete AFTER DELETE ON entities BEGIN
    UPDATE entity_shape_refs SET entities = entities - 1
    WHERE spec_type = old.spec_type AND lifecycle = old.lifecycle AND kind IN (old.kind, '')
        AND ((field = 'owner' AND value = old.owner_ref) OR (field = 'system' AND value = old.system_ref));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER entity_shape_refs_update AFTER UPDATE OF kind, spec_type, lifecycle, owner_ref, system_ref ON entities BEGIN
    UPDATE entity_shape_refs SET entities = entities - 1
    WHERE spec_type = old.spec_type AND lifecycle = old.lifecycle AND kind IN (old.kind, '')
        AND ((field = 'owner' AND value = old.owner_ref) OR (field = 'system' AND value = old.system_ref));
    INSERT INTO entity_shape_refs (field, spec_type, lifecycle, kind, value, entities)
    SELECT v.field, new.spec_type, new.lifecycle, k.kind, v.value, 1
    FROM (SELECT 'owner' AS field, new.owner_ref AS value UNION ALL SELECT 'system', new.system_ref) AS v,
        (SELECT new.kind AS kind UNION ALL SELECT '') AS k
    WHERE v.value <> ''
    ON CONFLICT (field, spec_type, lifecycle, kind, value) DO UPDATE SET entities = entities + 1;
END;
-- +goose StatementEnd

INSERT INTO entity_shape_refs (field, spec_type, lifecycle, kind, value, entities)
SELECT 'owner', spec_type, lifecycle, kind, owner_ref, count(*) FROM entities WHERE owner_ref <> '' GROUP BY 2, 3, 4, 5
UNION ALL SELECT 'owner', spec_type, lifecycle, '', owner_ref, count(*) FROM entities WHERE owner_ref <> '' GROUP BY 2, 3, 5
UNION ALL SELECT 'system', spec_type, lifecycle, kind, system_ref, count(*) FROM entities WHERE system_ref <> '' GROUP BY 2, 3, 4, 5
UNION ALL SELECT 'system', spec_type, lifecycle, '', system_ref, count(*) FROM entities WHERE system_ref <> '' GROUP BY 2, 3, 5;

-- +goose Down
DROP TRIGGER entity_shape_refs_update;
DROP TRIGGER entity_shape_refs_delete;
DROP TRIGGER entity_shape_refs_insert;
DROP TABLE entity_shape_refs;
