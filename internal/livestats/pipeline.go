package livestats

import (
	"context"

	"github.com/foyerhq/foyer/internal/orderstream"
)

// PipelineStatus is how the streams to the order workers are doing, for
// operators: what waits to be written, and what failed for good.
type PipelineStatus struct {
	OrdersBacklog   int64 `json:"orders_backlog"`   // confirmation messages not yet written
	PaymentsBacklog int64 `json:"payments_backlog"` // payment results not yet settled
	Poison          int64 `json:"poison_messages"`  // messages that failed every retry: see orderstream.PoisonTopic
}

// Pipeline reads the streams' state in a few round trips.
func (r *Reader) Pipeline(ctx context.Context) (PipelineStatus, error) {
	var s PipelineStatus
	var err error
	if s.OrdersBacklog, err = orderstream.Backlog(ctx, r.rdb, orderstream.OrdersTopic); err != nil {
		return s, err
	}
	if s.PaymentsBacklog, err = orderstream.Backlog(ctx, r.rdb, orderstream.PaymentsTopic); err != nil {
		return s, err
	}
	if s.Poison, err = orderstream.PoisonCount(ctx, r.rdb); err != nil {
		return s, err
	}
	return s, nil
}
