-- +goose Up
-- Events: a sale holding several products (docs/products.md). An event's
-- sales row keeps the window, the queue's plan and the pool (its stock is
-- the sum of its products'); each product has its own price, stock and
-- per-shopper limit here, in the order the operator gave them. A sale with
-- no rows here is a single-product sale, as before.
CREATE TABLE sale_products (
    sale_id               text    NOT NULL REFERENCES sales (id) ON DELETE CASCADE,
    position              integer NOT NULL CHECK (position BETWEEN 0 AND 19),
    sku                   text    NOT NULL CHECK (length(sku) BETWEEN 1 AND 64),
    name                  text    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    price_cents           bigint  NOT NULL CHECK (price_cents BETWEEN 0 AND 1000000000),
    list_price_cents      bigint  NOT NULL DEFAULT 0 CHECK (list_price_cents BETWEEN 0 AND 1000000000),
    discount_percent      integer NOT NULL DEFAULT 0 CHECK (discount_percent BETWEEN 0 AND 90),
    discount_amount_cents bigint  NOT NULL DEFAULT 0 CHECK (discount_amount_cents >= 0),
    stock                 integer NOT NULL CHECK (stock BETWEEN 0 AND 10000000),
    -- sold is the product's line of defence against oversell, as sales.sold
    -- is the event's: the order worker raises both in the transaction that
    -- writes the order, guarded by "sold + n <= stock".
    sold                  integer NOT NULL DEFAULT 0 CHECK (sold >= 0 AND sold <= stock),
    per_shopper_limit     integer NOT NULL CHECK (per_shopper_limit BETWEEN 1 AND 10),
    image_url             text    NOT NULL DEFAULT '' CHECK (length(image_url) <= 500),
    description           text    NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    PRIMARY KEY (sale_id, sku),
    UNIQUE (sale_id, position),
    CONSTRAINT sale_products_one_discount CHECK (discount_percent = 0 OR discount_amount_cents = 0)
);

-- The product an order bought: an event's product, or the sale's own sku
-- for a single-product sale's orders written from now on; NULL in orders
-- written before (their sale's sku is theirs).
ALTER TABLE orders ADD COLUMN sku text CHECK (length(sku) <= 64);

-- +goose Down
ALTER TABLE orders DROP COLUMN sku;
DROP TABLE sale_products;
