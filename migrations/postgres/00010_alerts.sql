-- Alerts from Alertmanager: one row per firing of a rule for one set of labels, told apart by
-- Alertmanager's fingerprint and when the firing started (the same fingerprint fires again later
-- with a new starts_at). A resolved delivery closes the row (status RESOLVED, ends_at). component
-- is the catalog component the alert was mapped to ('' for none); canary_* name the Argo CD
-- application whose canary was under way when it fired ('' for none), so a rollout finds the
-- alerts that fired during it. labels and annotations are JSON objects.

-- +goose Up
CREATE TABLE alerts (
    id               BIGSERIAL   PRIMARY KEY,
    fingerprint      TEXT      NOT NULL,
    starts_at        TIMESTAMPTZ NOT NULL,
    rule             TEXT      NOT NULL,
    component        TEXT      NOT NULL DEFAULT '',
    status           TEXT      NOT NULL,
    severity         TEXT      NOT NULL DEFAULT '',
    summary          TEXT      NOT NULL DEFAULT '',
    labels           TEXT      NOT NULL DEFAULT '{}',
    annotations      TEXT      NOT NULL DEFAULT '{}',
    ends_at          TIMESTAMPTZ NULL,
    generator_url    TEXT      NOT NULL DEFAULT '',
    canary_instance  TEXT      NOT NULL DEFAULT '',
    canary_namespace TEXT      NOT NULL DEFAULT '',
    canary_app       TEXT      NOT NULL DEFAULT '',
    received_at      TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX alerts_firing ON alerts (fingerprint, starts_at);
CREATE INDEX alerts_component ON alerts (component, starts_at);
CREATE INDEX alerts_rule ON alerts (rule, component);
CREATE INDEX alerts_canary ON alerts (canary_instance, canary_namespace, canary_app, starts_at);

-- +goose Down
DROP INDEX alerts_canary;
DROP INDEX alerts_rule;
DROP INDEX alerts_component;
DROP INDEX alerts_firing;
DROP TABLE alerts;
