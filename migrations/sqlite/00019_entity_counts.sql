-- Issue 17: how many entities of each kind have each value of each facet field (kind, type,
-- lifecycle, owner, namespace, system, tag), so that facets and counts over the whole catalog or
-- over kinds read a few rows instead of grouping every entity. Kept by triggers on entities
-- (SQLite has no statement triggers), whichever release writes. A tag counts once per entity
-- (tags hold only [a-z0-9:+#-], so the space-separated list reads as a JSON array); empty values
-- are not counted. Rows whose count fell to 0 stay until the value comes back; readers skip them.

-- +goose Up
CREATE TABLE entity_counts (
    kind     TEXT    NOT NULL,
    field    TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    entities INTEGER NOT NULL,
    PRIMARY KEY (field, kind, value)
) WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER entity_counts_insert AFTER INSERT ON entities BEGIN
    INSERT INTO entity_counts (kind, field, value, entities)
    SELECT new.kind, field, value, 1 FROM (
        SELECT 'kind' AS field, new.kind AS value
        UNION ALL SELECT 'type', new.spec_type
        UNION ALL SELECT 'lifecycle', new.lifecycle
        UNION ALL SELECT 'owner', new.owner_ref
        UNION ALL SELECT 'namespace', new.namespace
        UNION ALL SELECT 'system', new.system_ref
        UNION SELECT 'tag', value FROM json_each('["' || replace(new.tags, ' ', '","') || '"]')
    ) WHERE value <> ''
    ON CONFLICT (field, kind, value) DO UPDATE SET entities = entities + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER entity_counts_delete AFTER DELETE ON entities BEGIN
    UPDATE entity_counts SET entities = entities - 1
    WHERE kind = old.kind AND (field, value) IN (
        SELECT 'kind', old.kind
        UNION ALL SELECT 'type', old.spec_type
        UNION ALL SELECT 'lifecycle', old.lifecycle
        UNION ALL SELECT 'owner', old.owner_ref
        UNION ALL SELECT 'namespace', old.namespace
        UNION ALL SELECT 'system', old.system_ref
        UNION SELECT 'tag', value FROM json_each('["' || replace(old.tags, ' ', '","') || '"]')
    );
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER entity_counts_update AFTER UPDATE OF kind, spec_type, lifecycle, owner_ref, namespace, system_ref, tags ON entities BEGIN
    UPDATE entity_counts SET entities = entities - 1
    WHERE kind = old.kind AND (field, value) IN (
        SELECT 'kind', old.kind
        UNION ALL SELECT 'type', old.spec_type
        UNION ALL SELECT 'lifecycle', old.lifecycle
        UNION ALL SELECT 'owner', old.owner_ref
        UNION ALL SELECT 'namespace', old.namespace
        UNION ALL SELECT 'system', old.system_ref
        UNION SELECT 'tag', value FROM json_each('["' || replace(old.tags, ' ', '","') || '"]')
    );
    INSERT INTO entity_counts (kind, field, value, entities)
    SELECT new.kind, field, value, 1 FROM (
        SELECT 'kind' AS field, new.kind AS value
        UNION ALL SELECT 'type', new.spec_type
        UNION ALL SELECT 'lifecycle', new.lifecycle
        UNION ALL SELECT 'owner', new.owner_ref
        UNION ALL SELECT 'namespace', new.namespace
        UNION ALL SELECT 'system', new.system_ref
        UNION SELECT 'tag', value FROM json_each('["' || replace(new.tags, ' ', '","') || '"]')
    ) WHERE value <> ''
    ON CONFLICT (field, kind, value) DO UPDATE SET entities = entities + 1;
END;
-- +goose StatementEnd

INSERT INTO entity_counts (kind, field, value, entities)
SELECT kind, field, value, count(*) FROM (
    SELECT kind, 'kind' AS field, kind AS value FROM entities
    UNION ALL SELECT kind, 'type', spec_type FROM entities
    UNION ALL SELECT kind, 'lifecycle', lifecycle FROM entities
    UNION ALL SELECT kind, 'owner', owner_ref FROM entities
    UNION ALL SELECT kind, 'namespace', namespace FROM entities
    UNION ALL SELECT kind, 'system', system_ref FROM entities
    UNION ALL SELECT e.kind, 'tag', t.tag FROM entities e JOIN entity_tags t ON t.entity_id = e.id
) WHERE value <> '' GROUP BY kind, field, value;

-- +goose Down
DROP TRIGGER entity_counts_update;
DROP TRIGGER entity_counts_delete;
DROP TRIGGER entity_counts_insert;
DROP TABLE entity_counts;
