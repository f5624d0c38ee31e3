-- +goose Up
-- The shop's catalog (internal/catalog): products an operator imports as CSV
-- or JSON, upserted by SKU, and picks when creating a sale. A sale copies
-- the product's SKU, name and list price: later imports change no sale.
-- id orders the admin API's keyset pages (internal/paging); an upsert keeps it.
CREATE TABLE products (
    id               bigserial PRIMARY KEY,
    sku              text NOT NULL UNIQUE CHECK (length(sku) BETWEEN 1 AND 64),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    list_price_cents bigint NOT NULL CHECK (list_price_cents BETWEEN 0 AND 1000000000),
    currency         text NOT NULL CHECK (length(currency) = 3),
    image_url        text NOT NULL DEFAULT '' CHECK (length(image_url) <= 500),
    description      text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- A sale's discount off its list price (waitingroom/discount.go): a percent
-- or an amount, never both; price_cents is then the sale price derived from
-- list_price_cents. A sale without a discount has list_price_cents 0.
ALTER TABLE sales
    ADD COLUMN list_price_cents      bigint  NOT NULL DEFAULT 0 CHECK (list_price_cents BETWEEN 0 AND 1000000000),
    ADD COLUMN discount_percent      integer NOT NULL DEFAULT 0 CHECK (discount_percent BETWEEN 0 AND 90),
    ADD COLUMN discount_amount_cents bigint  NOT NULL DEFAULT 0 CHECK (discount_amount_cents >= 0),
    ADD CONSTRAINT sales_one_discount CHECK (discount_percent = 0 OR discount_amount_cents = 0);

-- +goose Down
ALTER TABLE sales DROP CONSTRAINT sales_one_discount, DROP COLUMN discount_amount_cents,
    DROP COLUMN discount_percent, DROP COLUMN list_price_cents;
DROP TABLE products;
