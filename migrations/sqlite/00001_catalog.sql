-- The catalog: registered locations, the entities they provide, and what the entities say about
-- each other. Refs are lower-case "kind:namespace/name" strings; relations name their target by ref
-- so a relation to an entity that does not exist yet is kept and resolves when the target arrives.

-- +goose Up
CREATE TABLE locations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    type            TEXT      NOT NULL,
    target          TEXT      NOT NULL,
    git_ref         TEXT      NOT NULL DEFAULT '',
    git_path        TEXT      NOT NULL DEFAULT '',
    status          TEXT      NOT NULL DEFAULT 'pending',
    message         TEXT      NOT NULL DEFAULT '',
    revision        TEXT      NOT NULL DEFAULT '',
    manifest        TEXT      NOT NULL DEFAULT '',
    errors_hash     TEXT      NOT NULL DEFAULT '',
    entity_count    INTEGER   NOT NULL DEFAULT 0,
    error_count     INTEGER   NOT NULL DEFAULT 0,
    refreshed_at    TIMESTAMP NULL,
    succeeded_at    TIMESTAMP NULL,
    next_refresh_at TIMESTAMP NULL,
    lease_owner     TEXT      NOT NULL DEFAULT '',
    lease_until     TIMESTAMP NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX locations_identity ON locations (type, target, git_ref, git_path);
CREATE INDEX locations_next_refresh ON locations (next_refresh_at);

CREATE TABLE location_errors (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id INTEGER NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    source      TEXT    NOT NULL,
    document    INTEGER NOT NULL DEFAULT 0,
    line        INTEGER NOT NULL DEFAULT 0,
    field       TEXT    NOT NULL DEFAULT '',
    entity_ref  TEXT    NOT NULL DEFAULT '',
    message     TEXT    NOT NULL
);
CREATE INDEX location_errors_location ON location_errors (location_id);

CREATE TABLE entities (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ref         TEXT      NOT NULL,
    kind        TEXT      NOT NULL,
    namespace   TEXT      NOT NULL,
    name        TEXT      NOT NULL,
    title       TEXT      NOT NULL DEFAULT '',
    description TEXT      NOT NULL DEFAULT '',
    spec_type   TEXT      NOT NULL DEFAULT '',
    lifecycle   TEXT      NOT NULL DEFAULT '',
    owner_ref   TEXT      NOT NULL DEFAULT '',
    system_ref  TEXT      NOT NULL DEFAULT '',
    tags        TEXT      NOT NULL DEFAULT '',
    search_text TEXT      NOT NULL DEFAULT '',
    body        TEXT      NOT NULL,
    hash        TEXT      NOT NULL,
    location_id INTEGER   NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    source      TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX entities_ref ON entities (ref);
CREATE INDEX entities_name ON entities (name, ref);
CREATE INDEX entities_kind_name ON entities (kind, name, ref);
CREATE INDEX entities_owner_name ON entities (owner_ref, name, ref);
CREATE INDEX entities_system ON entities (system_ref);
CREATE INDEX entities_type ON entities (spec_type);
CREATE INDEX entities_lifecycle ON entities (lifecycle);
CREATE INDEX entities_namespace ON entities (namespace);
CREATE INDEX entities_location ON entities (location_id, source);
CREATE INDEX entities_updated ON entities (updated_at, ref);

CREATE TABLE entity_tags (
    entity_id INTEGER NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    tag       TEXT    NOT NULL,
    PRIMARY KEY (entity_id, tag)
) WITHOUT ROWID;
CREATE INDEX entity_tags_tag ON entity_tags (tag, entity_id);

CREATE TABLE entity_annotations (
    entity_id INTEGER NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    key       TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    PRIMARY KEY (entity_id, key)
) WITHOUT ROWID;
-- Values can be long (JSON, URLs); the index keeps a prefix and queries recheck the whole value.
CREATE INDEX entity_annotations_key_value ON entity_annotations (key, substr(value, 1, 200));

-- The relations each entity declares, from its own point of view (a component's ownedBy, a
-- group's parentOf). The other direction is read through relations_target: an entity's ownerOf
-- edges are the ownedBy edges that name it. Storing one direction keeps ingest and storage at half.
CREATE TABLE relations (
    id         INTEGER PRIMARY KEY,
    entity_id  INTEGER NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    target_ref TEXT NOT NULL
);
CREATE INDEX relations_entity ON relations (entity_id);
CREATE INDEX relations_target ON relations (target_ref, type);

-- One row whose generation moves whenever the catalog changes, so every process that caches catalog
-- reads (the server, while `portside catalog import` writes) knows when to drop its cache.
CREATE TABLE catalog_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER   NOT NULL DEFAULT 0,
    changed_at TIMESTAMP NULL
);
INSERT INTO catalog_state (id, generation) VALUES (1, 0);

-- Text search over name, title, description and tags, as Portside normalises them in search_text
-- (lower case, accents removed, runs of letters and digits), so that both databases index the
-- same words. The table indexes the entities table's own column (external content) and triggers
-- keep it in step.
CREATE VIRTUAL TABLE entities_fts USING fts5(
    search_text,
    content = 'entities', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '1 2 3'
);

-- +goose StatementBegin
CREATE TRIGGER entities_fts_insert AFTER INSERT ON entities BEGIN
    INSERT INTO entities_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER entities_fts_delete AFTER DELETE ON entities BEGIN
    INSERT INTO entities_fts (entities_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER entities_fts_update AFTER UPDATE OF search_text ON entities BEGIN
    INSERT INTO entities_fts (entities_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO entities_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE entities_fts;
DROP TABLE catalog_state;
DROP TABLE relations;
DROP TABLE entity_annotations;
DROP TABLE entity_tags;
DROP TABLE entities;
DROP TABLE location_errors;
DROP TABLE locations;
