-- +goose Up
-- Outgoing webhooks (internal/webhooks, docs/integration.md "Webhooks").
--
-- An endpoint is where the shop wants events sent. Its secret is kept as
-- it is, not hashed: Foyer signs every delivery with it (HMAC-SHA256), so
-- it must be able to read it. It is shown once, when the endpoint is made.
CREATE TABLE webhook_endpoints (
    id          text PRIMARY KEY,
    url         text NOT NULL CHECK (char_length(url) <= 500),
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 200),
    events      text[] NOT NULL CHECK (cardinality(events) > 0),
    secret      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per event, written in the transaction that made it true (an
-- order written, paid, cancelled) or that moved the cursor past it (a
-- sale's Redis event): its id is derived from what happened, so a second
-- recording of the same thing is a no-op (ON CONFLICT DO NOTHING). body is
-- the exact JSON every delivery of it sends. seq orders events; ordering_key
-- groups those that must arrive in order (one reservation's, one sale's).
CREATE TABLE webhook_events (
    seq          bigserial PRIMARY KEY,
    id           text NOT NULL UNIQUE,
    type         text NOT NULL,
    sale_id      text NOT NULL,
    ordering_key text NOT NULL,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_created_at ON webhook_events (created_at);

-- One row per attempt to get one event to one endpoint, until it is
-- delivered (a 2xx) or dead (past the retry window). A redelivery or a
-- replay is a new row, so the log keeps what happened before. A pending
-- delivery waits for every earlier pending one of its endpoint and
-- ordering key: that is "in order per order".
CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    endpoint_id      text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_seq        bigint NOT NULL REFERENCES webhook_events (seq),
    ordering_key     text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    last_status_code integer,
    last_latency_ms  integer,
    last_error       text CHECK (char_length(last_error) <= 300),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
-- The delivery log of an endpoint, newest first, by id.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
-- What the dispatcher looks for: pending ones of an endpoint, by key.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, ordering_key, id)
    WHERE status = 'pending';

-- How far the webhooks have read each sale's Redis event stream. A sale
-- that has no row is read from its stream's start; the sales that exist
-- now are read from where their stream is when first seen ('$'), so
-- turning webhooks on does not send a sale's past.
CREATE TABLE webhook_sale_cursors (
    sale_id text PRIMARY KEY,
    last_id text NOT NULL
);
INSERT INTO webhook_sale_cursors (sale_id, last_id) SELECT id, '$' FROM sales;

-- +goose Down
DROP TABLE webhook_sale_cursors;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_endpoints;
