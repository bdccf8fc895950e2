-- Deploys: a request keeps the target it was asked for (JSON of deploys.Target: repository,
-- branch, path, image, how it is applied), so that it is approved and applied for that target
-- only. A request approved while its component was out of the catalog was applied, once the
-- component came back under another owner with another target, to that target (another
-- component's production overlay). '' on requests made before, which the catalog's target applies.
-- Expand only: a column with a default.

-- +goose Up
ALTER TABLE deploy_requests ADD COLUMN target TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE deploy_requests DROP COLUMN target;
