-- +goose Up
-- The sale plan: Postgres is its system of record. The hot state (queue, holds,
-- live stock) lives in Redis and can be rebuilt from these rows.
CREATE TABLE sales (
    id                      text PRIMARY KEY,
    sku                     text NOT NULL,
    name                    text NOT NULL,
    price_cents             bigint NOT NULL CHECK (price_cents >= 0),
    currency                text NOT NULL DEFAULT 'EUR',
    stock                   integer NOT NULL CHECK (stock >= 0),
    -- sold is the second line of defence against oversell: the order worker
    -- raises it in the same transaction that writes the order, guarded by
    -- "sold + n <= stock", and the CHECK catches anything that slips past.
    sold                    integer NOT NULL DEFAULT 0 CHECK (sold >= 0 AND sold <= stock),
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL CHECK (ends_at > starts_at),
    outflow_per_second      double precision NOT NULL CHECK (outflow_per_second > 0),
    reservation_ttl_seconds integer NOT NULL CHECK (reservation_ttl_seconds > 0),
    created_at              timestamptz NOT NULL DEFAULT now()
);

-- One row per confirmed reservation, never two: the reservation id is unique,
-- so a redelivered message cannot create a second order.
CREATE TABLE orders (
    id             bigserial PRIMARY KEY,
    sale_id        text NOT NULL REFERENCES sales (id),
    reservation_id text NOT NULL UNIQUE,
    shopper_id     text NOT NULL,
    transaction_id text NOT NULL,
    quantity       integer NOT NULL DEFAULT 1 CHECK (quantity > 0),
    price_cents    bigint NOT NULL,
    status         text NOT NULL,
    confirmed_at   timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_sale_id ON orders (sale_id);

-- +goose Down
DROP TABLE orders;
DROP TABLE sales;
