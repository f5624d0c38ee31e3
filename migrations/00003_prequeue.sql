-- +goose Up
-- How long before the start the prequeue opens. Shoppers who join in it are
-- drawn in a verifiable random order at the start.
ALTER TABLE sales ADD COLUMN prequeue_seconds integer NOT NULL DEFAULT 900
    CHECK (prequeue_seconds >= 0);

-- +goose Down
ALTER TABLE sales DROP COLUMN prequeue_seconds;
