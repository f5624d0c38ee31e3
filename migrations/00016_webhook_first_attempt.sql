-- +goose Up
-- When a delivery was first attempted (internal/webhooks, attempt.go). Its
-- retry window (FOYER_WEBHOOK_MAX_AGE) is counted from then, not from when
-- it was made: one that waited a day behind an earlier delivery of its order
-- still being retried would otherwise be dead at its first failure, after a
-- single attempt. NULL until the first attempt is recorded. Deliveries
-- already attempted keep the window they had, counted from their making.
ALTER TABLE webhook_deliveries ADD COLUMN first_attempt_at timestamptz;
UPDATE webhook_deliveries SET first_attempt_at = created_at WHERE attempts > 0;

-- +goose Down
ALTER TABLE webhook_deliveries DROP COLUMN first_attempt_at;
