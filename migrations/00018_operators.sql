-- +goose Up
-- Operator accounts (internal/operators): people who sign in to the admin
-- API and the dashboard, each with a role. Only an argon2id hash of a
-- password is kept.
CREATE TABLE operators (
    username      text PRIMARY KEY,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

-- A signed-in operator's sessions. Only the SHA-256 of a session token is
-- kept, so a copy of this table signs no one in. A session ends when it is
-- idle too long or too old (expires_at), at logout, or when its account is
-- disabled or its password reset (the rows are deleted).
CREATE TABLE operator_sessions (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    username     text NOT NULL REFERENCES operators (username) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX operator_sessions_username ON operator_sessions (username, created_at);

-- +goose Down
DROP TABLE operator_sessions;
DROP TABLE operators;
