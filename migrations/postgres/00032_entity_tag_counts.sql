-- Issue 17: how many entities listing a tag have each owner, each system and each tag, per kind
-- and over every kind, so that the facets of a tag (over one kind or all) are read from a few
-- rows instead of grouped from every entity listing it: at a million entities the 191,464
-- listing `java` took 0.4 s for their owners, 0.4 s for their systems and 0.7 s for their other
-- tags, reading each match's row. entity_shape_counts (00028) already answers a tag's kinds,
-- namespaces, types and lifecycles; these rows answer the rest. A tag has few owners however
-- large the catalog (the benchmark's million: 1.5 million rows per kind, as many over every
-- kind; `java`'s systems 29,667, read in key order and sorted in 10 ms).
--
-- A row counts the entities of kind (every kind: '') listing tag whose field (owner, system, or
-- tag: another or the same tag they list) is value, each tag once however often an entity lists
-- it, empty values never. Kept like entity_shape_counts: a catalog apply counts what it writes
-- itself and adds the differences before it commits (catalog/store_counts.go) while these
-- statement triggers stand aside (portside.entity_tag_counts = 'counted', a setting of its own:
-- an older release knows nothing of this table); any other writer, an older release's apply
-- included, is counted by the triggers. Rows whose count fell to 0 stay until the value comes
-- back. Expand only: a table, its triggers, its backfill.

-- +goose Up
CREATE TABLE entity_tag_counts (
    tag      TEXT COLLATE "C" NOT NULL,
    field    TEXT COLLATE "C" NOT NULL,
    kind     TEXT COLLATE "C" NOT NULL,
    value    TEXT COLLATE "C" NOT NULL,
    entities BIGINT NOT NULL,
    PRIMARY KEY (tag, field, kind, value)
);

-- +goose StatementBegin
-- entity_tag_values lists the rows of entity_tag_counts an entity's columns count it under, each
-- under its kind and under '' (every kind): for each distinct tag it lists, its owner, its system
-- and each distinct tag it lists, empty ones left out. catalog/store_counts.go's
-- countKeeping.add is its twin.
CREATE FUNCTION entity_tag_values(entity_kind TEXT, tags TEXT, owner_ref TEXT, system_ref TEXT)
RETURNS TABLE (tag TEXT, field TEXT, kind TEXT, value TEXT) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH t AS (SELECT DISTINCT x FROM unnest(string_to_array(tags, ' ')) AS x WHERE x <> '')
    SELECT t.x, v.field, k.kind, v.value FROM t, (
        SELECT 'owner', owner_ref UNION ALL SELECT 'system', system_ref UNION ALL SELECT 'tag', u.x FROM t AS u
    ) AS v(field, value), (VALUES (entity_kind), ('')) AS k(kind) WHERE v.value <> ''
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION entity_tag_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('portside.entity_tag_counts', true) = 'counted' THEN
        RETURN NULL; -- the writing transaction counts what it writes itself
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM entity_tag_counts;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO entity_tag_counts AS c (tag, field, kind, value, entities)
        SELECT v.tag, v.field, v.kind, v.value, count(*) FROM new_rows r, entity_tag_values(r.kind, r.tags, r.owner_ref, r.system_ref) AS v
        GROUP BY 1, 2, 3, 4
        ORDER BY v.tag COLLATE "C", v.field COLLATE "C", v.kind COLLATE "C", v.value COLLATE "C" -- key order, bytewise, as the apply writes
        ON CONFLICT (tag, field, kind, value) DO UPDATE SET entities = c.entities + excluded.entities;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE entity_tag_counts AS c SET entities = c.entities - d.n FROM (
            SELECT v.tag, v.field, v.kind, v.value, count(*) AS n
            FROM old_rows r, entity_tag_values(r.kind, r.tags, r.owner_ref, r.system_ref) AS v GROUP BY 1, 2, 3, 4
        ) AS d WHERE c.tag = d.tag AND c.field = d.field AND c.kind = d.kind AND c.value = d.value;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER entity_tag_counts_insert AFTER INSERT ON entities REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_tag_counts_follow();
CREATE TRIGGER entity_tag_counts_update AFTER UPDATE ON entities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_tag_counts_follow();
CREATE TRIGGER entity_tag_counts_delete AFTER DELETE ON entities REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_tag_counts_follow();
CREATE TRIGGER entity_tag_counts_truncate AFTER TRUNCATE ON entities
    FOR EACH STATEMENT EXECUTE FUNCTION entity_tag_counts_follow();

-- The catalog already there, in key order: a tag's rows together.
INSERT INTO entity_tag_counts (tag, field, kind, value, entities)
SELECT v.tag, v.field, v.kind, v.value, count(*) FROM entities e, entity_tag_values(e.kind, e.tags, e.owner_ref, e.system_ref) AS v
GROUP BY 1, 2, 3, 4 ORDER BY v.tag COLLATE "C", v.field COLLATE "C", v.kind COLLATE "C", v.value COLLATE "C";

-- +goose Down
DROP TRIGGER entity_tag_counts_truncate ON entities;
DROP TRIGGER entity_tag_counts_delete ON entities;
DROP TRIGGER entity_tag_counts_update ON entities;
DROP TRIGGER entity_tag_counts_insert ON entities;
DROP FUNCTION entity_tag_counts_follow();
DROP FUNCTION entity_tag_values(TEXT, TEXT, TEXT, TEXT);
DROP TABLE entity_tag_counts;
