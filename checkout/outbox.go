package checkout

import (
	"context"
	"errors"
	"time"

	"github.com/foyerhq/foyer/internal/clock"
)

// OutboxRelay publishes confirmations left in the outbox by a node that died,
// or failed to publish, between confirming and publishing. Every node may run
// one: publishing twice is harmless.
type OutboxRelay struct {
	service *Service
	// Every is how often the relay looks. Defaults to 1s.
	Every time.Duration
	// Age is how old an outbox entry must be before the relay takes it, so it
	// does not race the node that is publishing it right now. Defaults to 3s.
	Age time.Duration
	// Batch bounds the entries taken per sale per look. Defaults to 500.
	Batch int64
}

// NewOutboxRelay returns a relay with the defaults documented on its fields.
func NewOutboxRelay(s *Service) *OutboxRelay {
	return &OutboxRelay{service: s, Every: time.Second, Age: 3 * time.Second, Batch: 500}
}

// Run relays until ctx ends; a failed round is logged and retried.
func (o *OutboxRelay) Run(ctx context.Context) error {
	clock.Every(ctx, o.Every, func(ctx context.Context) {
		if _, err := o.RelayOnce(ctx); err != nil && ctx.Err() == nil {
			o.service.log.Warn("outbox relay failed", "err", err)
		}
	})
	return nil
}

// RelayOnce publishes every outbox entry older than Age, and returns how many.
func (o *OutboxRelay) RelayOnce(ctx context.Context) (int, error) {
	ids, err := o.service.rooms.Active(ctx)
	if err != nil {
		return 0, err
	}
	var relayed int
	var errs []error
	for _, saleID := range ids {
		n, err := o.relaySale(ctx, saleID)
		relayed += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return relayed, errors.Join(errs...)
}

func (o *OutboxRelay) relaySale(ctx context.Context, saleID string) (int, error) {
	pending, dropped, err := o.service.rooms.Outbox(ctx, saleID, time.Now().Add(-o.Age), o.Batch)
	for _, id := range dropped {
		o.service.log.Error("outbox entry without a readable reservation; dropped",
			"sale", saleID, "reservation", id)
	}
	if err != nil {
		return 0, err
	}
	var relayed int
	for _, c := range pending {
		if err := o.service.publish(ctx, saleID, confirmed(c)); err != nil {
			return relayed, err
		}
		relayed++
	}
	return relayed, nil
}
