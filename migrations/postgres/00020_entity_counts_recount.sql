-- Issue 17: a bulk apply counts its entities once, at its end, instead of through the triggers
-- of 00019. Those upsert the count rows once per COPY, INSERT or DELETE statement: a million-entity
-- import upserted the same ~141,000 rows once per COPY, and inside its one transaction every
-- version stayed until the commit (756,526 versions; the import 301 s -> 418 s). Now the trigger
-- stands aside while the transaction's setting portside.entity_counts is 'recount' (SET LOCAL):
-- an apply that writes many entities sets it, and before it commits replaces every count by a
-- grouped count of the entities (catalog/store_counts.go). Unset, current_setting(..., true) is
-- NULL and the trigger counts as before: every other writer, and every release that never sets
-- it (an older one during a rolling upgrade), is still counted by the trigger. The function is
-- replaced, nothing is taken away: expand only, the compatibility floor stays. Down restores the
-- body of 00019.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entity_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('portside.entity_counts', true) = 'recount' THEN
        RETURN NULL; -- the writing transaction counts again itself before it commits
    END IF;
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entity_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
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
