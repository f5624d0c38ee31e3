-- +goose Up
-- What the webhook dispatcher's queries need once delivered rows pile up
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

-- +goose Down
DROP INDEX webhook_deliveries_event;
DROP INDEX webhook_deliveries_pending_by_id;
