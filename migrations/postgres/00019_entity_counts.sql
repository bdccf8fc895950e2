-- Issue 17: how many entities of each kind have each value of each facet field (kind, type,
-- lifecycle, owner, namespace, system, tag), so that facets and counts over the whole catalog or
-- over kinds read a few rows instead of grouping up to a million entities (1.6–2.8 s uncached at
-- a million). Kept by statement triggers on entities, with their transition tables: one grouped
-- upsert per INSERT, COPY or DELETE, whichever release writes (an older release on this schema
-- keeps the counts right too). A tag counts once per entity; empty values are not counted. Rows
-- whose count fell to 0 stay until the value comes back; readers skip them.

-- +goose Up
CREATE TABLE entity_counts (
    kind     TEXT COLLATE "C" NOT NULL,
    field    TEXT COLLATE "C" NOT NULL,
    value    TEXT COLLATE "C" NOT NULL,
    entities BIGINT NOT NULL,
    PRIMARY KEY (field, kind, value)
);

-- +goose StatementBegin
CREATE FUNCTION entity_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM entity_counts;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO entity_counts AS c (kind, field, value, entities)
        SELECT kind, field, value, count(*) FROM (
            SELECT kind, 'kind' AS field, kind AS value FROM new_rows
            UNION ALL SELECT kind, 'type', spec_type FROM new_rows
            UNION ALL SELECT kind, 'lifecycle', lifecycle FROM new_rows
            UNION ALL SELECT kind, 'owner', owner_ref FROM new_rows
            UNION ALL SELECT kind, 'namespace', namespace FROM new_rows
            UNION ALL SELECT kind, 'system', system_ref FROM new_rows
            UNION ALL SELECT kind, 'tag', tag FROM (SELECT DISTINCT r.id, r.kind, t.tag FROM new_rows r, unnest(string_to_array(r.tags, ' ')) AS t(tag)) AS tags
        ) AS f WHERE value <> '' GROUP BY kind, field, value
        ON CONFLICT (field, kind, value) DO UPDATE SET entities = c.entities + excluded.entities;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE entity_counts AS c SET entities = c.entities - d.n FROM (
            SELECT kind, field, value, count(*) AS n FROM (
                SELECT kind, 'kind' AS field, kind AS value FROM old_rows
                UNION ALL SELECT kind, 'type', spec_type FROM old_rows
                UNION ALL SELECT kind, 'lifecycle', lifecycle FROM old_rows
                UNION ALL SELECT kind, 'owner', owner_ref FROM old_rows
                UNION ALL SELECT kind, 'namespace', namespace FROM old_rows
                UNION ALL SELECT kind, 'system', system_ref FROM old_rows
                UNION ALL SELECT kind, 'tag', tag FROM (SELECT DISTINCT r.id, r.kind, t.tag FROM old_rows r, unnest(string_to_array(r.tags, ' ')) AS t(tag)) AS tags
            ) AS f WHERE value <> '' GROUP BY kind, field, value
        ) AS d WHERE c.field = d.field AND c.kind = d.kind AND c.value = d.value;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER entity_counts_insert AFTER INSERT ON entities REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_counts_follow();
CREATE TRIGGER entity_counts_update AFTER UPDATE ON entities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_counts_follow();
CREATE TRIGGER entity_counts_delete AFTER DELETE ON entities REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_counts_follow();
CREATE TRIGGER entity_counts_truncate AFTER TRUNCATE ON entities
    FOR EACH STATEMENT EXECUTE FUNCTION entity_counts_follow();

INSERT INTO entity_counts (kind, field, value, entities)
SELECT kind, field, value, count(*) FROM (
    SELECT kind, 'kind' AS field, kind AS value FROM entities
    UNION ALL SELECT kind, 'type', spec_type FROM entities
    UNION ALL SELECT kind, 'lifecycle', lifecycle FROM entities
    UNION ALL SELECT kind, 'owner', owner_ref FROM entities
    UNION ALL SELECT kind, 'namespace', namespace FROM entities
    UNION ALL SELECT kind, 'system', system_ref FROM entities
    UNION ALL SELECT e.kind, 'tag', t.tag FROM entities e JOIN entity_tags t ON t.entity_id = e.id
) AS f WHERE value <> '' GROUP BY kind, field, value;

-- +goose Down
DROP TRIGGER entity_counts_truncate ON entities;
DROP TRIGGER entity_counts_delete ON entities;
DROP TRIGGER entity_counts_update ON entities;
DROP TRIGGER entity_counts_insert ON entities;
DROP FUNCTION entity_counts_follow();
DROP TABLE entity_counts;
