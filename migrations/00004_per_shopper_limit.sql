-- +goose Up
-- How many units one shopper may buy in a sale: the admitted shopper holds
-- one, and may take up to this many at checkout while stock lasts.
ALTER TABLE sales ADD COLUMN per_shopper_limit integer NOT NULL DEFAULT 1
    CHECK (per_shopper_limit BETWEEN 1 AND 10);

-- +goose Down
ALTER TABLE sales DROP COLUMN per_shopper_limit;
