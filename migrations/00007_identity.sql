-- +goose Up
-- Whether joining the sale asks for a known customer, a session made from
-- the shop's identity token (docs/integration.md, "Known customers"): off
-- (anonymous, the default), optional, or required.
ALTER TABLE sales ADD COLUMN identity text NOT NULL DEFAULT 'off'
    CHECK (identity IN ('off', 'optional', 'required'));

-- +goose Down
ALTER TABLE sales DROP COLUMN identity;
