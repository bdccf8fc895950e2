-- Deploy requests applied by pull request (issue 16): the pull (merge) request that carries the
-- request's commit. Expand only: a column with a default, which the previous version ignores.

-- +goose Up
ALTER TABLE deploy_requests ADD COLUMN pull_request_url TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE deploy_requests DROP COLUMN pull_request_url;
