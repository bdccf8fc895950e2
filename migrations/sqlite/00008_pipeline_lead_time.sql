-- Lead time for changes from pipeline runs (DORA): when the commit a run built was made, and when
-- the run's Deploy stage succeeded. Both are NULL until known (a provider that does not report the
-- commit's time, a run without a Deploy stage). The index serves "the deploys of these components
-- in a window".

-- +goose Up
ALTER TABLE pipeline_runs ADD COLUMN committed_at TIMESTAMP NULL;
ALTER TABLE pipeline_runs ADD COLUMN deployed_at TIMESTAMP NULL;
CREATE INDEX pipeline_runs_deployed ON pipeline_runs (component, deployed_at);

-- +goose Down
DROP INDEX pipeline_runs_deployed;
ALTER TABLE pipeline_runs DROP COLUMN deployed_at;
ALTER TABLE pipeline_runs DROP COLUMN committed_at;
