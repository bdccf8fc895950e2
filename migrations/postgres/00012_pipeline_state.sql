-- One row whose generation moves after every change of a pipeline run, so every process that keeps
-- answers showing runs (the response cache's component pages with their pipelines) knows when
-- another process changed one: the CLI's triggers, another replica's webhooks.

-- +goose Up
CREATE TABLE pipeline_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL DEFAULT 0
);
INSERT INTO pipeline_state (id, generation) VALUES (1, 0);

-- +goose Down
DROP TABLE pipeline_state;
