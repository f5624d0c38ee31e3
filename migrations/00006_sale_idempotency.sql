-- +goose Up
-- An admin may send an Idempotency-Key when creating a sale, so that a retry
-- after a lost answer returns the sale it made instead of making a second.
-- The fingerprint of the request tells a retry from the key's reuse for
-- another plan. Sales made without a key have neither (NULLs do not clash).
ALTER TABLE sales ADD COLUMN idempotency_key text UNIQUE,
                  ADD COLUMN request_fingerprint text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sales DROP COLUMN request_fingerprint, DROP COLUMN idempotency_key;
