-- Issue 17: how many entities there are of each shape, a shape being a kind, namespace, type and
-- lifecycle, and how many of them list each tag, so that a filter by any of those fields (and one
-- tag) is counted, and its facets of those fields and tags are answered, from a few rows instead
-- of from every match. The explorer's filters are mostly these: services in production matched
-- 84,182 of 241,004 entities, whose page count read every one of them (0.1-0.25 s) and whose
-- four facets grouped them (0.5 s). A catalog has few shapes (the benchmark's 241,004 entities:
-- 35 shapes, 813 with a tag), whatever its size.
--
-- A row whose tag is '' counts the entities of its shape; a row with a tag counts those of them
-- listing the tag, once however often it is listed (as entity_counts counts tags). Kept like
-- entity_prefix_counts (00025): a catalog apply counts what it writes itself and adds the
-- differences before it commits (catalog/store_counts.go), while these statement triggers stand
-- aside (portside.entity_shape_counts = 'counted', its own setting: an older release's apply knows
-- nothing of this table); any other writer, an older release's apply included, is counted by the
-- triggers. Rows whose count fell to 0 stay until the shape comes back. Expand only: a table, its
-- triggers, its backfill; the floor stays.

-- +goose Up
CREATE TABLE entity_shape_counts (
    kind      TEXT COLLATE "C" NOT NULL,
    namespace TEXT COLLATE "C" NOT NULL,
    spec_type TEXT COLLATE "C" NOT NULL,
    lifecycle TEXT COLLATE "C" NOT NULL,
    tag       TEXT COLLATE "C" NOT NULL,
    entities  BIGINT NOT NULL,
    PRIMARY KEY (kind, namespace, spec_type, lifecycle, tag)
);

-- +goose StatementBegin
-- entity_shapes lists the rows of entity_shape_counts an entity's columns count it under: its
-- shape (tag '') and each distinct tag it lists. catalog/store_counts.go's shapeKeys is its twin.
CREATE FUNCTION entity_shapes(tags TEXT) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT '' UNION SELECT t FROM unnest(string_to_array(tags, ' ')) AS t WHERE t <> ''
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION entity_shape_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('portside.entity_shape_counts', true) = 'counted' THEN
        RETURN NULL; -- the writing transaction counts what it writes itself
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM entity_shape_counts;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO entity_shape_counts AS c (kind, namespace, spec_type, lifecycle, tag, entities)
        SELECT r.kind, r.namespace, r.spec_type, r.lifecycle, t, count(*) FROM new_rows r, entity_shapes(r.tags) AS t
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY r.kind, r.namespace, r.spec_type, r.lifecycle, t COLLATE "C" -- key order, bytewise, as the apply writes
        ON CONFLICT (kind, namespace, spec_type, lifecycle, tag) DO UPDATE SET entities = c.entities + excluded.entities;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE entity_shape_counts AS c SET entities = c.entities - d.n FROM (
            SELECT r.kind, r.namespace, r.spec_type, r.lifecycle, t AS tag, count(*) AS n
            FROM old_rows r, entity_shapes(r.tags) AS t GROUP BY 1, 2, 3, 4, 5
        ) AS d WHERE c.kind = d.kind AND c.namespace = d.namespace AND c.spec_type = d.spec_type
            AND c.lifecycle = d.lifecycle AND c.tag = d.tag;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER entity_shape_counts_insert AFTER INSERT ON entities REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_shape_counts_follow();
CREATE TRIGGER entity_shape_counts_update AFTER UPDATE ON entities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_shape_counts_follow();
CREATE TRIGGER entity_shape_counts_delete AFTER DELETE ON entities REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_shape_counts_follow();
CREATE TRIGGER entity_shape_counts_truncate AFTER TRUNCATE ON entities
    FOR EACH STATEMENT EXECUTE FUNCTION entity_shape_counts_follow();

INSERT INTO entity_shape_counts (kind, namespace, spec_type, lifecycle, tag, entities)
SELECT e.kind, e.namespace, e.spec_type, e.lifecycle, t, count(*) FROM entities e, entity_shapes(e.tags) AS t GROUP BY 1, 2, 3, 4, 5;

-- +goose Down
DROP TRIGGER entity_shape_counts_truncate ON entities;
DROP TRIGGER entity_shape_counts_delete ON entities;
DROP TRIGGER entity_shape_counts_update ON entities;
DROP TRIGGER entity_shape_counts_insert ON entities;
DROP FUNCTION entity_shape_counts_follow();
DROP FUNCTION entity_shapes(TEXT);
DROP TABLE entity_shape_counts;
