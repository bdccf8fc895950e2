-- Issue 17: how many entities, of any kind, have each value of each facet field: the sum over kinds
-- of entity_counts (00019), kept as its own rows so that facets and counts over the whole catalog
-- read the top values of a field in index order (entity_totals_top) instead of summing every kind's
-- row of every value and sorting them (the owner facet of a million entities: tens of thousands of
-- rows per request). A table of its own, not rows of entity_counts with a reserved kind: a release
-- older than this one sums entity_counts over every kind for the whole catalog, and would count
-- such rows twice.
--
-- Kept by statement triggers on entity_counts itself, so that whatever writes the counts is
-- followed: the triggers on entities (00019, 00020), and an older release's recount (DELETE, then
-- INSERT), which knows nothing of this table. Each statement adds the difference it made, grouped
-- by (field, value), in key order (writers meet the rows in one order). A recount of this release
-- sets portside.entity_totals = 'recount' for its statements (SET LOCAL), and sums the totals
-- again itself: following its DELETE and INSERT of every count would update every total twice
-- (0.7-1.5 s for the DELETE alone at a million). No older release sets it. Rows whose total fell
-- to 0 stay until the value comes back; readers skip them. Expand only: a table, indexes, triggers
-- on a table nothing older writes differently; the floor stays.

-- +goose Up
CREATE TABLE entity_totals (
    field    TEXT COLLATE "C" NOT NULL,
    value    TEXT COLLATE "C" NOT NULL,
    entities BIGINT NOT NULL,
    PRIMARY KEY (field, value)
);

-- The top values of a field, read in order: WHERE field = ? AND entities > 0 ORDER BY entities
-- DESC, value LIMIT n; over the whole catalog from the totals, over one kind from its counts
-- (which otherwise sorted every value of the field for the kind: 13,162 owners and 29,675 systems
-- of the components at a million, 11-38 ms each; in index order 0.1 ms).
CREATE INDEX entity_totals_top ON entity_totals (field, entities DESC, value);
CREATE INDEX entity_counts_top ON entity_counts (field, kind, entities DESC, value);

-- +goose StatementBegin
CREATE FUNCTION entity_totals_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('portside.entity_totals', true) = 'recount' THEN
        RETURN NULL; -- a recount of this release sums the totals again itself before it commits
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM entity_totals;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO entity_totals AS t (field, value, entities)
        SELECT field, value, sum(entities) FROM new_rows GROUP BY field, value HAVING sum(entities) <> 0 ORDER BY field, value
        ON CONFLICT (field, value) DO UPDATE SET entities = t.entities + excluded.entities;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO entity_totals AS t (field, value, entities)
        SELECT field, value, sum(entities) FROM (
            SELECT field, value, entities FROM new_rows
            UNION ALL SELECT field, value, -entities FROM old_rows
        ) AS d GROUP BY field, value HAVING sum(entities) <> 0 ORDER BY field, value
        ON CONFLICT (field, value) DO UPDATE SET entities = t.entities + excluded.entities;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO entity_totals AS t (field, value, entities)
        SELECT field, value, -sum(entities) FROM old_rows GROUP BY field, value HAVING sum(entities) <> 0 ORDER BY field, value
        ON CONFLICT (field, value) DO UPDATE SET entities = t.entities + excluded.entities;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER entity_totals_insert AFTER INSERT ON entity_counts REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_totals_follow();
CREATE TRIGGER entity_totals_update AFTER UPDATE ON entity_counts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_totals_follow();
CREATE TRIGGER entity_totals_delete AFTER DELETE ON entity_counts REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_totals_follow();
CREATE TRIGGER entity_totals_truncate AFTER TRUNCATE ON entity_counts
    FOR EACH STATEMENT EXECUTE FUNCTION entity_totals_follow();

-- After the triggers: from here on every writer of entity_counts waits for this transaction (the
-- triggers' lock), so the sum below misses nothing and counts nothing twice.
INSERT INTO entity_totals (field, value, entities)
SELECT field, value, sum(entities) FROM entity_counts GROUP BY field, value HAVING sum(entities) <> 0;

-- +goose Down
DROP TRIGGER entity_totals_truncate ON entity_counts;
DROP TRIGGER entity_totals_delete ON entity_counts;
DROP TRIGGER entity_totals_update ON entity_counts;
DROP TRIGGER entity_totals_insert ON entity_counts;
DROP FUNCTION entity_totals_follow();
DROP INDEX entity_counts_top;
DROP TABLE entity_totals;
