-- +goose Up
-- Shop API keys (internal/shopkeys): a shop's backend calls Foyer with one.
-- Only the SHA-256 of a key's secret is kept: a copy of this table lets no
-- one call Foyer as a shop.
CREATE TABLE shop_keys (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    scopes       text[] NOT NULL CHECK (cardinality(scopes) > 0),
    secret_hash  bytea NOT NULL CHECK (length(secret_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- +goose Down
DROP TABLE shop_keys;
