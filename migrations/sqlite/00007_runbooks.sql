-- Runbooks: Markdown kept in Portside (every edit a new, immutable row of runbook_versions) or a
-- link to an external document, linked to catalog entities (components, systems) by canonical ref.
-- runbooks holds the current state; version is the number of its newest version, and an edit names
-- the version it edits, so two editors of one version cannot both win (optimistic concurrency).
-- runbook_versions refuses updates (history is immutable); its rows go only with their runbook.
-- runbook_link_checks keeps the last answer the background link check got for each URL.

-- +goose Up
CREATE TABLE runbooks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    title      TEXT      NOT NULL,
    kind       TEXT      NOT NULL,
    url        TEXT      NOT NULL DEFAULT '',
    body       TEXT      NOT NULL DEFAULT '',
    version    INTEGER   NOT NULL DEFAULT 1,
    created_by TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_by TEXT      NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX runbooks_title ON runbooks (title);

CREATE TABLE runbook_versions (
    runbook_id INTEGER   NOT NULL REFERENCES runbooks (id) ON DELETE CASCADE,
    version    INTEGER   NOT NULL,
    title      TEXT      NOT NULL,
    url        TEXT      NOT NULL DEFAULT '',
    body       TEXT      NOT NULL DEFAULT '',
    author     TEXT      NOT NULL,
    message    TEXT      NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (runbook_id, version)
);

-- +goose StatementBegin
CREATE TRIGGER runbook_versions_no_update BEFORE UPDATE ON runbook_versions
BEGIN
    SELECT RAISE(ABORT, 'runbook versions are immutable');
END;
-- +goose StatementEnd

CREATE TABLE runbook_links (
    runbook_id INTEGER NOT NULL REFERENCES runbooks (id) ON DELETE CASCADE,
    entity_ref TEXT    NOT NULL,
    PRIMARY KEY (runbook_id, entity_ref)
);
CREATE INDEX runbook_links_entity ON runbook_links (entity_ref, runbook_id);

CREATE TABLE runbook_link_checks (
    url         TEXT      NOT NULL PRIMARY KEY,
    status      TEXT      NOT NULL,
    http_status INTEGER   NOT NULL DEFAULT 0,
    message     TEXT      NOT NULL DEFAULT '',
    checked_at  TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE runbook_link_checks;
DROP TABLE runbook_links;
DROP TRIGGER runbook_versions_no_update;
DROP TABLE runbook_versions;
DROP TABLE runbooks;
