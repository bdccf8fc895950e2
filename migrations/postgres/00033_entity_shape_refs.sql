-- Issue 17: how many entities of each type, lifecycle and kind (and of every kind) have each owner
-- and each system, so that the owner and system facets of a filter by types (with lifecycles and
-- kinds or not) are read from a few rows instead of grouped from every match: services in
-- production, 350,000 of a million entities, took 0.17 s for each of the two. entity_shape_counts
-- (00028) answers the other facets of such a filter; these rows answer these two (of one type,
-- lifecycle and kind, or every kind, the rows of one key prefix, sorted by count).
--
-- A row counts the entities of its type, lifecycle and kind ('': every kind) whose field (owner or
-- system) is value, empty values never. Kept like entity_shape_counts: a catalog apply counts what
-- it writes itself and adds the differences before it commits (catalog/store_counts.go) while
-- these statement triggers stand aside (portside.entity_shape_refs = 'counted', a setting of its
-- own: an older release knows nothing of this table); any other writer, an older release's apply
-- included, is counted by the triggers. Rows whose count fell to 0 stay until the value comes
-- back. Expand only: a table, its triggers, its backfill.

-- +goose Up
CREATE TABLE entity_shape_refs (
    field     TEXT COLLATE "C" NOT NULL,
    spec_type TEXT COLLATE "C" NOT NULL,
    lifecycle TEXT COLLATE "C" NOT NULL,
    kind      TEXT COLLATE "C" NOT NULL,
    value     TEXT COLLATE "C" NOT NULL,
    entities  BIGINT NOT NULL,
    PRIMARY KEY (field, spec_type, lifecycle, kind, value)
);

-- +goose StatementBegin
-- entity_shape_ref_values lists the rows of entity_shape_refs an entity's columns count it under,
-- but its type and lifecycle: its owner and its system, each under its kind and under '' (every
-- kind), empty ones left out. catalog/store_counts.go's countKeeping.add is its twin.
CREATE FUNCTION entity_shape_ref_values(entity_kind TEXT, owner_ref TEXT, system_ref TEXT)
RETURNS TABLE (field TEXT, kind TEXT, value TEXT) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT v.field, k.kind, v.value FROM (SELECT 'owner', owner_ref UNION ALL SELECT 'system', system_ref) AS v(field, value),
        (VALUES (entity_kind), ('')) AS k(kind) WHERE v.value <> ''
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION entity_shape_refs_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('portside.entity_shape_refs', true) = 'counted' THEN
        RETURN NULL; -- the writing transaction counts what it writes itself
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM entity_shape_refs;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO entity_shape_refs AS c (field, spec_type, lifecycle, kind, value, entities)
        SELECT v.field, r.spec_type, r.lifecycle, v.kind, v.value, count(*)
        FROM new_rows r, entity_shape_ref_values(r.kind, r.owner_ref, r.system_ref) AS v
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY v.field COLLATE "C", r.spec_type, r.lifecycle, v.kind COLLATE "C", v.value COLLATE "C" -- key order, bytewise, as the apply writes
        ON CONFLICT (field, spec_type, lifecycle, kind, value) DO UPDATE SET entities = c.entities + excluded.entities;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE entity_shape_refs AS c SET entities = c.entities - d.n FROM (
            SELECT v.field, r.spec_type, r.lifecycle, v.kind, v.value, count(*) AS n
            FROM old_rows r, entity_shape_ref_values(r.kind, r.owner_ref, r.system_ref) AS v GROUP BY 1, 2, 3, 4, 5
        ) AS d WHERE c.field = d.field AND c.spec_type = d.spec_type AND c.lifecycle = d.lifecycle
            AND c.kind = d.kind AND c.value = d.value;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER entity_shape_refs_insert AFTER INSERT ON entities REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_shape_refs_follow();
CREATE TRIGGER entity_shape_refs_update AFTER UPDATE ON entities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_shape_refs_follow();
CREATE TRIGGER entity_shape_refs_delete AFTER DELETE ON entities REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_shape_refs_follow();
CREATE TRIGGER entity_shape_refs_truncate AFTER TRUNCATE ON entities
    FOR EACH STATEMENT EXECUTE FUNCTION entity_shape_refs_follow();

-- The catalog already there, in key order.
INSERT INTO entity_shape_refs (field, spec_type, lifecycle, kind, value, entities)
SELECT v.field, e.spec_type, e.lifecycle, v.kind, v.value, count(*)
FROM entities e, entity_shape_ref_values(e.kind, e.owner_ref, e.system_ref) AS v
GROUP BY 1, 2, 3, 4, 5 ORDER BY v.field COLLATE "C", e.spec_type, e.lifecycle, v.kind COLLATE "C", v.value COLLATE "C";

-- +goose Down
DROP TRIGGER entity_shape_refs_truncate ON entities;
DROP TRIGGER entity_shape_refs_delete ON entities;
DROP TRIGGER entity_shape_refs_update ON entities;
DROP TRIGGER entity_shape_refs_insert ON entities;
DROP FUNCTION entity_shape_refs_follow();
DROP FUNCTION entity_shape_ref_values(TEXT, TEXT, TEXT);
DROP TABLE entity_shape_refs;
