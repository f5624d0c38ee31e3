-- +goose Up
-- The proof of work a shopper does before joining the sale: leading zero bits
-- of a SHA-256 (docs/pow.md). 0 is off, the default; 24 is about 16 million
-- hashes, minutes on a desktop browser, so anything above is a typo.
ALTER TABLE sales ADD COLUMN pow_difficulty integer NOT NULL DEFAULT 0
    CHECK (pow_difficulty BETWEEN 0 AND 24);

-- +goose Down
ALTER TABLE sales DROP COLUMN pow_difficulty;
