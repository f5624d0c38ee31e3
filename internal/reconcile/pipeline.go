package reconcile

import (
	"context"
	"fmt"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/worker"
)

// PipelineStatus is how the streams to the order workers are doing, for
// operators: what waits to be written, and what failed for good.
type PipelineStatus struct {
	OrdersBacklog   int64 `json:"orders_backlog"`   // confirmation messages not yet written
	PaymentsBacklog int64 `json:"payments_backlog"` // payment results not yet settled
	Poison          int64 `json:"poison_messages"`  // messages that failed every retry: see worker.PoisonTopic
}

// Pipeline reads the streams' state in a few round trips.
func (r *Reconciler) Pipeline(ctx context.Context) (PipelineStatus, error) {
	var s PipelineStatus
	var err error
	if s.OrdersBacklog, err = r.backlog(ctx, checkout.OrdersTopic); err != nil {
		return s, err
	}
	if s.PaymentsBacklog, err = r.backlog(ctx, checkout.PaymentsTopic); err != nil {
		return s, err
	}
	if s.Poison, err = r.rdb.XLen(ctx, worker.PoisonTopic).Result(); err != nil {
		return s, fmt.Errorf("count poison messages: %w", err)
	}
	return s, nil
}
