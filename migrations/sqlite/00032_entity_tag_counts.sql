-- Issue 17: SQLite counts, as PostgreSQL has since 00032, how many entities listing a tag have
-- each owner, each system and each tag, per kind and over every kind, so that the facets of a
-- tag are read from a few rows rather than grouped from every entity listing it.
-- entity_shape_counts (00031) answers a tag's kinds, namespaces, types and lifecycles; these rows
-- answer the rest.
--
-- A row counts the entities of kind (every kind: '') listing tag whose field (owner, system, or
-- tag: another or the same tag they list) is value, each tag once however often an entity lists
-- it, empty values never. Kept by row triggers, as entity_shape_counts is here. Rows whose count
-- fell to 0 stay until the value comes back. Expand only: a table, its index, its triggers, its
-- backfill.

-- +goose Up
CREATE TABLE entity_tag_counts (
    tag      TEXT    NOT NULL,
    field    TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    entities INTEGER NOT NULL,
    PRIMARY KEY (tag, field, kind, value)
) WITHOUT ROWID;

-- The rows an entity counts under, each under its kind and under '' (every kind): for each
-- distinct tag its tags column lists (space-separated; tags hold no quote or backslash, as the
-- other counts' triggers read them too), its owner, its system and each distinct tag, empty ones
-- left out.
-- +goose StatementBegin
CREATE TRIGGER entity_tag_counts_insert AFTER INSERT ON entities BEGIN
    INSERT INTO entity_tag_counts (tag, field, kind, value, entities)
    SELECT t.value, v.field, k.kind, v.value, 1 FROM
        (SELECT DISTINCT value FROM json_each('["' || replace(new.tags, ' ', '","') || '"]') WHERE value <> '') AS t,
        (SELECT 'owner' AS field, new.owner_ref AS value UNION ALL SELECT 'system', new.system_ref
         UNION SELECT 'tag', value FROM json_each('["' || replace(new.tags, ' ', '","') || '"]')) AS v,
        (SELECT new.kind AS kind UNION ALL SELECT '') AS k
    WHERE v.value <> ''
    ON CONFLICT (tag, field, kind, value) DO UPDATE SET entities = entities + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER entity_tag_counts_delete AFTER DELETE ON entities BEGIN
    UPDATE entity_tag_counts SET entities = entities - 1
    WHERE kind IN (old.kind, '')
        AND tag IN (SELECT value FROM json_each('["' || replace(old.tags, ' ', '","') || '"]') WHERE value <> '')
        AND ((field = 'owner' AND value = old.owner_ref) OR (field = 'system' AND value = old.system_ref)
            OR (field = 'tag' AND value IN (SELECT value FROM json_each('["' || replace(old.tags, ' ', '","') || '"]'))));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER entity_tag_counts_update AFTER UPDATE OF kind, owner_ref, system_ref, tags ON entities BEGIN
    UPDATE entity_tag_counts SET entities = entities - 1
    WHERE kind IN (old.kind, '')
        AND tag IN (SELECT value FROM json_each('["' || replace(old.tags, ' ', '","') || '"]') WHERE value <> '')
        AND ((field = 'owner' AND value = old.owner_ref) OR (field = 'system' AND value = old.system_ref)
            OR (field = 'tag' AND value IN (SELECT value FROM json_each('["' || replace(old.tags, ' ', '","') || '"]'))));
    INSERT INTO entity_tag_counts (tag, field, kind, value, entities)
    SELECT t.value, v.field, k.kind, v.value, 1 FROM
        (SELECT DISTINCT value FROM json_each('["' || replace(new.tags, ' ', '","') || '"]') WHERE value <> '') AS t,
        (SELECT 'owner' AS field, new.owner_ref AS value UNION ALL SELECT 'system', new.system_ref
         UNION SELECT 'tag', value FROM json_each('["' || replace(new.tags, ' ', '","') || '"]')) AS v,
        (SELECT new.kind AS kind UNION ALL SELECT '') AS k
    WHERE v.value <> ''
    ON CONFLICT (tag, field, kind, value) DO UPDATE SET entities = entities + 1;
END;
-- +goose StatementEnd

WITH listed_once AS (
    SELECT DISTINCT e.id, e.kind, e.owner_ref, e.system_ref, j.value AS tag
    FROM entities e, json_each('["' || replace(e.tags, ' ', '","') || '"]') AS j WHERE j.value <> ''
), listed AS (
    SELECT id, kind, owner_ref, system_ref, tag FROM listed_once
    UNION ALL SELECT id, '', owner_ref, system_ref, tag FROM listed_once
)
INSERT INTO entity_tag_counts (tag, field, kind, value, entities)
SELECT tag, 'owner', kind, owner_ref, count(*) FROM listed WHERE owner_ref <> '' GROUP BY 1, 2, 3, 4
UNION ALL SELECT tag, 'system', kind, system_ref, count(*) FROM listed WHERE system_ref <> '' GROUP BY 1, 2, 3, 4
UNION ALL SELECT a.tag, 'tag', a.kind, b.tag, count(*) FROM listed a JOIN listed b ON b.id = a.id AND b.kind = a.kind GROUP BY 1, 2, 3, 4;

-- +goose Down
DROP TRIGGER entity_tag_counts_update;
DROP TRIGGER entity_tag_counts_delete;
DROP TRIGGER entity_tag_counts_insert;
DROP TABLE entity_tag_counts;
