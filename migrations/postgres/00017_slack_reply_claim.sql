-- Slack (issue 16): replying_until is set while a bot posts the reply it claimed in a deploy
-- request's thread (until when that claim holds, should the bot die mid-post) and cleared once
-- the reply is posted. A bot with a later move waits for it, so replies reach the thread in the
-- order of the moves even when two replicas tell consecutive moves.

-- +goose Up
ALTER TABLE slack_messages ADD COLUMN replying_until TIMESTAMPTZ NULL;

-- +goose Down
ALTER TABLE slack_messages DROP COLUMN replying_until;
