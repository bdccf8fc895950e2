-- Pipelines: a run keeps the declaration it was started with (JSON of pipelines.Declaration:
-- provider, repository or project, workflow, stages, parameters), so that following, cancelling
-- and retrying it read what it runs, not what the catalog declares since: a repository moved or a
-- stage renamed in the catalog made a running run read as failed ("the provider no longer knows
-- this run") or laid its stages out as they never were, and a declaration removed left it neither
-- followed nor cancellable. '' on runs started before: those read the catalog's, as they did.
--
-- A retry is the one retry of its run by this unique index, no longer by an idempotency key
-- "retry-of-N" that a client's own key could take first (a trigger with key "retry-of-5" made run
-- 5 unretriable). A run has one retry already under the keys of before, so the index holds.
-- Expand only: a column with a default and an index.

-- +goose Up
ALTER TABLE pipeline_runs ADD COLUMN declaration TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX pipeline_runs_retry_of ON pipeline_runs (retry_of) WHERE retry_of IS NOT NULL;

-- +goose Down
DROP INDEX pipeline_runs_retry_of;
ALTER TABLE pipeline_runs DROP COLUMN declaration;
