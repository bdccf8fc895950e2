-- Rollouts: every sync operation Portside saw an Argo CD application go through, kept after Argo CD
-- drops it from its own short history. A rollout is identified by its application and start time,
-- so seeing it again (after a reconnect, in a list) updates it instead of adding a second row.
-- canary is the Argo Rollouts progress of the sync (JSON: steps reached, abort, analysis verdicts).

-- +goose Up
CREATE TABLE rollouts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    instance       TEXT      NOT NULL,
    app_namespace  TEXT      NOT NULL DEFAULT '',
    application    TEXT      NOT NULL,
    environment    TEXT      NOT NULL DEFAULT '',
    project        TEXT      NOT NULL DEFAULT '',
    revision       TEXT      NOT NULL DEFAULT '',
    phase          TEXT      NOT NULL,
    result         TEXT      NOT NULL,
    message        TEXT      NOT NULL DEFAULT '',
    started_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP NULL,
    initiated_by   TEXT      NOT NULL DEFAULT '',
    automated      BOOLEAN   NOT NULL DEFAULT FALSE,
    requested_by   TEXT      NOT NULL DEFAULT '',
    history_id     INTEGER NULL,
    images         TEXT      NOT NULL DEFAULT '[]',
    commit_author  TEXT      NOT NULL DEFAULT '',
    commit_message TEXT      NOT NULL DEFAULT '',
    committed_at   TIMESTAMP NULL,
    commit_fetched BOOLEAN   NOT NULL DEFAULT FALSE,
    canary         TEXT      NOT NULL DEFAULT '',
    updated_at     TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX rollouts_operation ON rollouts (instance, app_namespace, application, started_at);
CREATE INDEX rollouts_application ON rollouts (instance, application, started_at);
CREATE INDEX rollouts_started ON rollouts (started_at, id);

-- Health history: each change of an application's health, for DORA's time to restore (degraded
-- to healthy). at is Argo CD's transition time where it reports one, else when Portside saw it.
CREATE TABLE deployment_health (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    instance       TEXT      NOT NULL,
    app_namespace  TEXT      NOT NULL DEFAULT '',
    application    TEXT      NOT NULL,
    health         TEXT      NOT NULL,
    at             TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX deployment_health_change ON deployment_health (instance, app_namespace, application, at);
CREATE INDEX deployment_health_at ON deployment_health (at);

-- +goose Down
DROP TABLE deployment_health;
DROP TABLE rollouts;
