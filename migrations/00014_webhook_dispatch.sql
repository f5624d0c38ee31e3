-- +goose Up
-- What the webhook dispatcher needs to keep its rate as delivered rows pile up
-- (internal/webhooks; docs/performance.md "Webhooks").
--
-- The claim takes an endpoint's oldest due pending deliveries by id. The
-- pending index of 00013 is by ordering key first, so the planner walked
-- the endpoint's whole log in id order, past every delivered row: 43 ms a
-- claim with 204,000 delivered rows behind 4,000 pending, 0.2 ms with this.
CREATE INDEX webhook_deliveries_pending_by_id ON webhook_deliveries (endpoint_id, id)
    WHERE status = 'pending';

-- Pruning deletes old events that no delivery names: each deleted event's
-- foreign key is checked against webhook_deliveries.event_seq, and the
-- floor of the events still named is min(event_seq). Without an index each
-- of those is a scan of the whole table, per event.
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_seq);

-- Which dispatcher works an endpoint's deliveries, until when. One lane
-- holds an endpoint at a time and renews its lease while it works; it
-- keeps in memory which deliveries it has in flight, so a delivery needs
-- no lease of its own: a claim only reads, and a delivery is written once,
-- with its outcome (it used to be written twice). A dispatcher that dies
-- leaves the lane to another when the lease ends.
CREATE TABLE webhook_lanes (
    endpoint_id  text PRIMARY KEY REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    owner        text NOT NULL,
    leased_until timestamptz NOT NULL
);

-- +goose Down
DROP TABLE webhook_lanes;
DROP INDEX webhook_deliveries_event;
DROP INDEX webhook_deliveries_pending_by_id;
