-- Identity and audit: the people who signed in (linked to catalog User entities), their browser
-- sessions and API tokens, login flows in progress, and the append-only audit log. Secrets are
-- never stored: sessions and tokens are kept as SHA-256 hashes of their random values.

-- +goose Up
CREATE TABLE users (
    id            BIGSERIAL   PRIMARY KEY,
    username      TEXT        NOT NULL,
    email         TEXT        NOT NULL DEFAULT '',
    display_name  TEXT        NOT NULL DEFAULT '',
    issuer        TEXT        NOT NULL DEFAULT '',
    subject       TEXT        NOT NULL DEFAULT '',
    entity_ref    TEXT        NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    last_login_at TIMESTAMPTZ NULL
);
CREATE UNIQUE INDEX users_username ON users (username);

-- The groups the identity provider said the user belongs to at their last login, as catalog refs.
CREATE TABLE user_groups (
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_ref TEXT   NOT NULL,
    PRIMARY KEY (user_id, group_ref)
);

CREATE TABLE sessions (
    id           BIGSERIAL   PRIMARY KEY,
    token_hash   TEXT        NOT NULL,
    user_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id_token     TEXT        NOT NULL DEFAULT '',
    user_agent   TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ NULL
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id);

-- A login between /auth/login and /auth/callback: single use, short-lived.
CREATE TABLE login_flows (
    state_hash TEXT        PRIMARY KEY,
    nonce      TEXT        NOT NULL,
    verifier   TEXT        NOT NULL,
    return_to  TEXT        NOT NULL DEFAULT '/',
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    id           BIGSERIAL   PRIMARY KEY,
    token_hash   TEXT        NOT NULL,
    user_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT        NOT NULL,
    scopes       TEXT        NOT NULL DEFAULT '',
    admin        BOOLEAN     NOT NULL DEFAULT FALSE,
    created_by   TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NULL,
    last_used_at TIMESTAMPTZ NULL,
    revoked_at   TIMESTAMPTZ NULL
);
CREATE UNIQUE INDEX api_tokens_token_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit_records (
    id         BIGSERIAL   PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    actor      TEXT        NOT NULL,
    actor_kind TEXT        NOT NULL,
    client     TEXT        NOT NULL,
    action     TEXT        NOT NULL,
    resource   TEXT        NOT NULL DEFAULT '',
    arguments  TEXT        NOT NULL DEFAULT '{}',
    outcome    TEXT        NOT NULL,
    code       TEXT        NOT NULL DEFAULT '',
    message    TEXT        NOT NULL DEFAULT '',
    request_id TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX audit_records_at ON audit_records (at);
CREATE INDEX audit_records_actor ON audit_records (actor, id);
CREATE INDEX audit_records_action ON audit_records (action, id);

-- Audit records are append-only: the database itself refuses to change or remove one.
-- +goose StatementBegin
CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_records_no_change BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_append_only();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only();

-- +goose Down
DROP TABLE audit_records;
DROP FUNCTION audit_records_append_only();
DROP TABLE api_tokens;
DROP TABLE login_flows;
DROP TABLE sessions;
DROP TABLE user_groups;
DROP TABLE users;
