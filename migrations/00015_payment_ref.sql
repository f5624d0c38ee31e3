-- +goose Up
-- The payment provider's own id of an order's payment (Stripe's
-- PaymentIntent id, pi_...), written by the order worker from what the
-- provider answered the charge: the settler asks the provider for that
-- payment by id before it cancels an order for want of an answer, rather
-- than searching by metadata, which lags writes at Stripe by up to a
-- minute. NULL for an order charged before this column, one the provider
-- refused, or one the shop redeemed (never charged): those are searched.
-- Bounded, as every text a provider hands back.
ALTER TABLE orders ADD COLUMN payment_ref text
    CHECK (char_length(payment_ref) BETWEEN 1 AND 255);

-- +goose Down
ALTER TABLE orders DROP COLUMN payment_ref;
