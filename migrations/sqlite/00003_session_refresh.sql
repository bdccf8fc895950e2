-- Refresh tokens: where the provider grants one at sign-in, the session keeps it (sealed with the
-- encryption key, never in plain text) and uses it when the provider's access token runs out, to
-- pick up group changes and to end the session once the provider no longer honours it.

-- +goose Up
ALTER TABLE sessions ADD COLUMN refresh_token TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN provider_expires_at TIMESTAMP NULL;

-- +goose Down
ALTER TABLE sessions DROP COLUMN provider_expires_at;
ALTER TABLE sessions DROP COLUMN refresh_token;
