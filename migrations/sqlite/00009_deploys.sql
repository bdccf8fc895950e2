-- Deploy requests (issue 16): one row per request and one per transition of its state (who, when,
-- through which client, from -> to, why), written in the same transaction as the move. A request
-- for a component, version and environment that already has an open one (REQUESTED, APPROVED,
-- APPLYING, ROLLING_OUT) is refused by the partial unique index deploy_requests_open; the service
-- then returns the open one, so concurrent repeats of a request make one request. commit_sha is the
-- manifest commit that applied the request; the rollout of that revision closes it.

-- +goose Up
CREATE TABLE deploy_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    component_ref   TEXT      NOT NULL,
    environment     TEXT      NOT NULL,
    version         TEXT      NOT NULL,
    reason          TEXT      NOT NULL DEFAULT '',
    requester       TEXT      NOT NULL,
    requester_name  TEXT      NOT NULL DEFAULT '',
    requester_email TEXT      NOT NULL DEFAULT '',
    approver        TEXT      NOT NULL DEFAULT '',
    client          TEXT      NOT NULL,
    state           TEXT      NOT NULL,
    waiting         TEXT      NOT NULL DEFAULT '',
    outcome         TEXT      NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP,
    repo            TEXT      NOT NULL DEFAULT '',
    commit_sha      TEXT      NOT NULL DEFAULT '',
    pipeline_run_id INTEGER
);
CREATE UNIQUE INDEX deploy_requests_open ON deploy_requests (component_ref, environment, version)
    WHERE state IN ('REQUESTED', 'APPROVED', 'APPLYING', 'ROLLING_OUT');
CREATE INDEX deploy_requests_component ON deploy_requests (component_ref, id);
CREATE INDEX deploy_requests_state ON deploy_requests (state, expires_at);
CREATE INDEX deploy_requests_commit ON deploy_requests (commit_sha);
CREATE INDEX deploy_requests_requester ON deploy_requests (requester, id);

CREATE TABLE deploy_transitions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id INTEGER   NOT NULL REFERENCES deploy_requests (id) ON DELETE CASCADE,
    actor      TEXT      NOT NULL,
    client     TEXT      NOT NULL,
    from_state TEXT      NOT NULL DEFAULT '',
    to_state   TEXT      NOT NULL,
    note       TEXT      NOT NULL DEFAULT '',
    at         TIMESTAMP NOT NULL
);
CREATE INDEX deploy_transitions_request ON deploy_transitions (request_id, id);

-- +goose Down
DROP TABLE deploy_transitions;
DROP TABLE deploy_requests;
