-- Pipeline runs: every run of a component's pipeline that Portside started, kept as immutable
-- history (a retry is a new row whose retry_of names the run it retries). stages, parameters and
-- artifacts are JSON. The idempotency key is unique per component and pipeline, so that concurrent
-- triggers with one key insert one row and every other caller reads that row back; runs without a
-- key store NULL, which the unique index does not compare. version counts the updates: a writer
-- that read an older version loses (optimistic concurrency), so a slow poll never overwrites a
-- newer state.

-- +goose Up
CREATE TABLE pipeline_runs (
    id              BIGSERIAL PRIMARY KEY,
    component       TEXT      NOT NULL,
    pipeline        TEXT      NOT NULL,
    provider        TEXT      NOT NULL,
    provider_run_id TEXT      NOT NULL DEFAULT '',
    url             TEXT      NOT NULL DEFAULT '',
    attempt         INTEGER   NOT NULL DEFAULT 0,
    dispatch_id     TEXT      NOT NULL,
    ref             TEXT      NOT NULL,
    commit_sha      TEXT      NOT NULL DEFAULT '',
    parameters      TEXT      NOT NULL DEFAULT '{}',
    triggered_by    TEXT      NOT NULL,
    client          TEXT      NOT NULL DEFAULT '',
    idempotency_key TEXT      NULL,
    status          TEXT      NOT NULL,
    message         TEXT      NOT NULL DEFAULT '',
    stages          TEXT      NOT NULL DEFAULT '[]',
    artifacts       TEXT      NOT NULL DEFAULT '[]',
    retry_of        BIGINT NULL REFERENCES pipeline_runs (id),
    created_at      TIMESTAMPTZ NOT NULL,
    started_at      TIMESTAMPTZ NULL,
    finished_at     TIMESTAMPTZ NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    polled_at       TIMESTAMPTZ NULL,
    version         INTEGER   NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX pipeline_runs_idempotency ON pipeline_runs (component, pipeline, idempotency_key);
CREATE UNIQUE INDEX pipeline_runs_dispatch ON pipeline_runs (dispatch_id);
CREATE INDEX pipeline_runs_pipeline ON pipeline_runs (component, pipeline, id);
CREATE INDEX pipeline_runs_status ON pipeline_runs (status, polled_at);
CREATE INDEX pipeline_runs_provider_run ON pipeline_runs (provider, provider_run_id);

-- +goose Down
DROP TABLE pipeline_runs;
