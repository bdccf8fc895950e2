-- Slack (issue 16). slack_messages is the message each deploy request was posted as (channel and
-- ts), so that any replica, and the bot after a restart, updates it in place and replies in its
-- thread; last_reply and last_transition are the last rollout note replied there and the
-- transition it told, so that a step is told once (a conditional update decides between bots, and
-- an older move seen late is not told after a newer one). slack_links are the explicit links people make
-- between their Slack user and their Portside user (used before the e-mail lookup), and
-- slack_link_tokens the one-time, short-lived tokens of the /deploy link URLs: only a SHA-256 of
-- the token is kept, used_at marks the one use.
-- rollouts_revision: a deploy request left ROLLING_OUT while Portside was down finds the rollout of
-- its commit (the background pass catches up with rollouts it did not see end).

-- +goose Up
CREATE TABLE slack_messages (
    request_id INTEGER NOT NULL PRIMARY KEY REFERENCES deploy_requests (id) ON DELETE CASCADE,
    channel    TEXT      NOT NULL,
    ts         TEXT      NOT NULL,
    last_reply TEXT      NOT NULL DEFAULT '',
    last_transition INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE slack_links (
    team_id    TEXT      NOT NULL,
    slack_user TEXT      NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (team_id, slack_user)
);
CREATE INDEX slack_links_user ON slack_links (user_id);

CREATE TABLE slack_link_tokens (
    token_hash TEXT      NOT NULL PRIMARY KEY,
    team_id    TEXT      NOT NULL,
    slack_user TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX slack_link_tokens_expires ON slack_link_tokens (expires_at);

CREATE INDEX rollouts_revision ON rollouts (revision);

-- +goose Down
DROP INDEX rollouts_revision;
DROP TABLE slack_link_tokens;
DROP TABLE slack_links;
DROP TABLE slack_messages;
