-- +goose Up
-- The per-customer limit across a sale (docs/integration.md, "Per-customer
-- limit"): how many units one customer may buy in all its orders (0: no
-- bound but per_shopper_limit per order), and how many orders (1: today's
-- one order per shopper).
ALTER TABLE sales ADD COLUMN per_customer_units integer NOT NULL DEFAULT 0
    CHECK (per_customer_units BETWEEN 0 AND 100);
ALTER TABLE sales ADD COLUMN per_customer_orders integer NOT NULL DEFAULT 1
    CHECK (per_customer_orders BETWEEN 1 AND 10);

-- An order the shop redeemed carries the shop's own order reference, and an
-- order of a customer signed in with the shop's identity token carries the
-- shop's customer id; both NULL otherwise. IF NOT EXISTS: another migration
-- of the same release may add shop_order_ref for the Orders API first.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS shop_order_ref text
    CHECK (char_length(shop_order_ref) BETWEEN 1 AND 128);
ALTER TABLE orders ADD COLUMN IF NOT EXISTS customer_id text
    CHECK (char_length(customer_id) BETWEEN 1 AND 128);

-- +goose Down
ALTER TABLE orders DROP COLUMN IF EXISTS customer_id;
ALTER TABLE orders DROP COLUMN IF EXISTS shop_order_ref;
ALTER TABLE sales DROP COLUMN per_customer_orders;
ALTER TABLE sales DROP COLUMN per_customer_units;
