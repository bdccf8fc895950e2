-- Issue 17: how many entities, of any kind, have each value of each facet field: the sum over kinds
-- of entity_counts (00019), kept as its own rows so that facets and counts over the whole catalog
-- read the top values of a field in index order (entity_totals_top) instead of summing every kind's
-- row of every value and sorting them. A table of its own, not rows of entity_counts with a
-- reserved kind: a release older than this one sums entity_counts over every kind for the whole
-- catalog, and would count such rows twice.
--
-- Kept by triggers on entity_counts itself, so that whatever writes the counts is followed (the
-- triggers on entities of 00019, or a recount). Rows whose total fell to 0 stay until the value
-- comes back; readers skip them. Expand only: a table, indexes and triggers; the floor stays.

-- +goose Up
CREATE TABLE entity_totals (
    field    TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    entities INTEGER NOT NULL,
    PRIMARY KEY (field, value)
) WITHOUT ROWID;

-- The top values of a field, read in order: WHERE field = ? AND entities > 0 ORDER BY entities
-- DESC, value LIMIT n; over the whole catalog from the totals, over one kind from its counts
-- (which otherwise sorted every value of the field for the kind: 13,162 owners and 29,675 systems
-- of the components at a million, 11-38 ms each; in index order 0.1 ms).
CREATE INDEX entity_totals_top ON entity_totals (field, entities DESC, value);
CREATE INDEX entity_counts_top ON entity_counts (field, kind, entities DESC, value);

-- +goose StatementBegin
CREATE TRIGGER entity_totals_insert AFTER INSERT ON entity_counts BEGIN
    INSERT INTO entity_totals (field, value, entities) VALUES (new.field, new.value, new.entities)
    ON CONFLICT (field, value) DO UPDATE SET entities = entities + excluded.entities;
END;
-- +goose StatementEnd

-- A count that changed (what the triggers on entities do): one update of its total.
-- +goose StatementBegin
CREATE TRIGGER entity_totals_update AFTER UPDATE ON entity_counts WHEN new.field = old.field AND new.value = old.value BEGIN
    UPDATE entity_totals SET entities = entities + new.entities - old.entities WHERE field = new.field AND value = new.value;
END;
-- +goose StatementEnd

-- A count moved to another field or value (nothing does so today): taken from one total, added to another.
-- +goose StatementBegin
CREATE TRIGGER entity_totals_move AFTER UPDATE ON entity_counts WHEN new.field <> old.field OR new.value <> old.value BEGIN
    UPDATE entity_totals SET entities = entities - old.entities WHERE field = old.field AND value = old.value;
    INSERT INTO entity_totals (field, value, entities) VALUES (new.field, new.value, new.entities)
    ON CONFLICT (field, value) DO UPDATE SET entities = entities + excluded.entities;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER entity_totals_delete AFTER DELETE ON entity_counts BEGIN
    UPDATE entity_totals SET entities = entities - old.entities WHERE field = old.field AND value = old.value;
END;
-- +goose StatementEnd

INSERT INTO entity_totals (field, value, entities)
SELECT field, value, sum(entities) FROM entity_counts GROUP BY field, value HAVING sum(entities) <> 0;

-- +goose Down
DROP TRIGGER entity_totals_delete;
DROP TRIGGER entity_totals_move;
DROP TRIGGER entity_totals_update;
DROP TRIGGER entity_totals_insert;
DROP INDEX entity_counts_top;
DROP TABLE entity_totals;
