-- Deploys (issue 17): apply_attempt fences the applies of a request. Whoever starts an apply (the
-- move to APPLYING) or resumes one cut short (the background pass's claim) raises it by one with a
-- conditional update, and every write of that apply's outcome is conditioned on the attempt it
-- raised: an applier whose request was taken over meanwhile (its lock connection broke, or a
-- `portside deploy approve` on SQLite ran past the grace) records nothing.

-- +goose Up
ALTER TABLE deploy_requests ADD COLUMN apply_attempt BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE deploy_requests DROP COLUMN apply_attempt;
