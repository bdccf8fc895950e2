-- Slack: the signatures of the requests Slack sent in the last ten minutes (twice MaxSkew), so that a
-- captured request sent again within its timestamp's window is refused as a replay: the same
-- signed /deploy after its request was rejected made a new request. Kept in the database, so that
-- a replay to another replica is refused too; rows past expires_at are removed as requests come.
-- Expand only: a new table.

-- +goose Up
CREATE TABLE slack_requests_seen (
    signature  TEXT        NOT NULL PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX slack_requests_seen_expires ON slack_requests_seen (expires_at);

-- +goose Down
DROP TABLE slack_requests_seen;
