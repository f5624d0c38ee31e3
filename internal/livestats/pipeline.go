package livestats

import (
	"context"
	"fmt"

	"github.com/foyerhq/foyer/internal/orderstream"
)

// PipelineStatus is how the streams to the order workers are doing, for
// operators: what waits to be written, and what failed for good.
type PipelineStatus struct {
	// OrdersBacklog and PaymentsBacklog are summed over every partition of
	// their stream and the single stream of before partitions.
	OrdersBacklog   int64 `json:"orders_backlog"`   // confirmation messages not yet written
	PaymentsBacklog int64 `json:"payments_backlog"` // payment results not yet settled
	Poison          int64 `json:"poison_messages"`  // messages that failed every retry: see orderstream.PoisonTopic
	// WebhookEventGaps counts the times the webhooks found a sale's event
	// stream trimmed past where they had read (events lost to the shop);
	// each is a webhook_events_lost row of the audit log, with its span.
	WebhookEventGaps int64 `json:"webhook_event_gaps"`
}

// Pipeline reads the streams' state in a few round trips.
func (r *Reader) Pipeline(ctx context.Context) (PipelineStatus, error) {
	var s PipelineStatus
	var err error
	if s.OrdersBacklog, err = orderstream.Backlog(ctx, r.rdb, orderstream.Orders); err != nil {
		return s, err
	}
	if s.PaymentsBacklog, err = orderstream.Backlog(ctx, r.rdb, orderstream.Payments); err != nil {
		return s, err
	}
	if s.Poison, err = orderstream.PoisonCount(ctx, r.rdb); err != nil {
		return s, err
	}
	// Through the sales, so the audit log's index by sale is used, not a
	// scan of every shop key use.
	if err = r.db.GetContext(ctx, &s.WebhookEventGaps, `SELECT count(*) FROM sales s
		JOIN admin_actions a ON a.sale_id = s.id WHERE a.action = 'webhook_events_lost'`); err != nil {
		return s, fmt.Errorf("count webhook event gaps: %w", err)
	}
	return s, nil
}
