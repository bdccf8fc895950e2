-- Issue 17: how many entities of each kind have a word starting with each prefix, so that a text
-- search of one word counts its matches from one row per kind instead of visiting every match's
-- row (a word in 27,000 of a million entities: 27,000 heap pages, 0.2-1 s, where the page of 50
-- takes 14 ms; PostgreSQL 15 fetches a row even to count it, GIN has no index-only scan).
--
-- The words are search_text's (catalog/search.go: Portside's words, space-separated), which the
-- search column's tsvector holds one lexeme each; a search's word w matches the lexemes starting
-- with w (w:*). So an entity is counted once for each distinct prefix of its words, up to 32
-- characters: a search word longer than that is counted on the entities, as is a search of
-- several words or with other filters. Words of 2,047 bytes or more are not in the tsvector
-- (PostgreSQL skips them) and are not counted here either.
--
-- Kept like entity_counts (00019, 00020): a catalog apply counts what it writes itself and adds
-- the differences before it commits (catalog/store_counts.go), while these statement triggers
-- stand aside (portside.entity_prefix_counts = 'counted', its own setting: an older release's
-- apply sets portside.entity_counts but knows nothing of this table); any other writer, an older
-- release's apply included, is counted by the triggers. Rows whose count fell to 0 stay until
-- the prefix comes back. Expand only: a table, its triggers, its backfill; the floor stays.

-- +goose Up
CREATE TABLE entity_prefix_counts (
    prefix   TEXT COLLATE "C" NOT NULL,
    kind     TEXT COLLATE "C" NOT NULL,
    entities BIGINT NOT NULL,
    PRIMARY KEY (prefix, kind)
);

-- +goose StatementBegin
-- entity_prefixes lists the distinct prefixes of an entity's words (its search_text), each once:
-- what entity_prefix_counts counts the entity under. catalog/store_counts.go's prefixes is its twin.
CREATE FUNCTION entity_prefixes(search_text TEXT) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT left(w, n)
    FROM unnest(string_to_array(search_text, ' ')) AS w, generate_series(1, least(length(w), 32)) AS n
    WHERE w <> '' AND octet_length(w) < 2047
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION entity_prefix_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('portside.entity_prefix_counts', true) = 'counted' THEN
        RETURN NULL; -- the writing transaction counts what it writes itself
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM entity_prefix_counts;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO entity_prefix_counts AS c (prefix, kind, entities)
        SELECT p, r.kind, count(*) FROM new_rows r, entity_prefixes(r.search_text) AS p
        GROUP BY p, r.kind ORDER BY p COLLATE "C", r.kind COLLATE "C" -- key order, as the apply writes
        ON CONFLICT (prefix, kind) DO UPDATE SET entities = c.entities + excluded.entities;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE entity_prefix_counts AS c SET entities = c.entities - d.n FROM (
            SELECT p, r.kind, count(*) AS n FROM old_rows r, entity_prefixes(r.search_text) AS p GROUP BY p, r.kind
        ) AS d WHERE c.prefix = d.p AND c.kind = d.kind;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER entity_prefix_counts_insert AFTER INSERT ON entities REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_prefix_counts_follow();
CREATE TRIGGER entity_prefix_counts_update AFTER UPDATE ON entities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_prefix_counts_follow();
CREATE TRIGGER entity_prefix_counts_delete AFTER DELETE ON entities REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_prefix_counts_follow();
CREATE TRIGGER entity_prefix_counts_truncate AFTER TRUNCATE ON entities
    FOR EACH STATEMENT EXECUTE FUNCTION entity_prefix_counts_follow();

INSERT INTO entity_prefix_counts (prefix, kind, entities)
SELECT p, e.kind, count(*) FROM entities e, entity_prefixes(e.search_text) AS p GROUP BY p, e.kind;

-- +goose Down
DROP TRIGGER entity_prefix_counts_truncate ON entities;
DROP TRIGGER entity_prefix_counts_delete ON entities;
DROP TRIGGER entity_prefix_counts_update ON entities;
DROP TRIGGER entity_prefix_counts_insert ON entities;
DROP FUNCTION entity_prefix_counts_follow();
DROP FUNCTION entity_prefixes(TEXT);
DROP TABLE entity_prefix_counts;
