-- +goose Up
-- The refunds Foyer made: a payment that succeeded after its order was
-- cancelled (the order worker), and those `foyer reconcile --payments
-- --repair` made. One row per payment refunded, keyed by the provider's id
-- of the payment, so that a refund recorded twice (a redelivered message, a
-- second repair run) is one row. The order stays as it was (cancelled, or
-- paid when a second payment of it was refunded); the payments summary
-- counts these rows. order_id is NULL for a payment that named no order.
-- amount_cents and currency are the money given back.
CREATE TABLE refunds (
    payment_ref  text PRIMARY KEY CHECK (char_length(payment_ref) BETWEEN 1 AND 255),
    sale_id      text NOT NULL REFERENCES sales (id),
    order_id     bigint REFERENCES orders (id),
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
    currency     text NOT NULL,
    reason       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_sale_id ON refunds (sale_id);

-- +goose Down
DROP TABLE refunds;
