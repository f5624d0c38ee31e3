package checkout

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/waitingroom"
)

// Batcher gathers the confirmations a node makes into batch messages, so
// the order pipeline is not bound to one message per stream round trip.
// A confirmation is safe in the outbox meanwhile: if the node dies before
// the batch is out, another node's outbox relay publishes it.
type Batcher struct {
	service *Service
	// Window is how long the first confirmation of a batch waits for more.
	// Defaults to 5ms: unnoticeable next to a payment, and at a few thousand
	// checkouts a second it gathers dozens per message.
	Window time.Duration
	// Max bounds a batch. Defaults to 500: a worker writes 500 orders in one
	// transaction in about 30 ms here, which carries the pipeline past the
	// stream's 15k messages a second (docs/performance.md).
	Max int
	in  chan pendingConfirmation
}

type pendingConfirmation struct {
	saleID string
	c      confirmed
}

// NewBatcher returns a batcher for the service's confirmations, with the
// defaults documented on its fields; the service hands it its confirmations
// from now on. Run it.
func NewBatcher(s *Service) *Batcher {
	b := &Batcher{service: s, Window: 5 * time.Millisecond, Max: 500, in: make(chan pendingConfirmation, 8192)}
	s.batcher = b
	return b
}

// add queues a confirmation without waiting; false means the queue is full
// and the caller publishes it alone.
func (b *Batcher) add(saleID string, c confirmed) bool {
	select {
	case b.in <- pendingConfirmation{saleID, c}:
		return true
	default:
		return false
	}
}

// Run publishes batches until ctx ends, then publishes what is left.
func (b *Batcher) Run(ctx context.Context) error {
	for {
		var first pendingConfirmation
		select {
		case <-ctx.Done():
			b.flushRest()
			return nil
		case first = <-b.in:
		}
		batch := gather(b.in, first, b.Window, b.Max)
		// Confirmed already: the batch goes out even if the node is stopping.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err := b.publish(pctx, batch)
		cancel()
		if err != nil {
			b.service.log.Warn("publish confirmations failed; the outbox will retry", "count", len(batch), "err", err)
		}
	}
}

// flushRest publishes what is queued when the node stops; this last call
// owns its lifetime.
func (b *Batcher) flushRest() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		var batch []pendingConfirmation
	drain:
		for len(batch) < b.Max {
			select {
			case p := <-b.in:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		if len(batch) == 0 {
			return
		}
		if err := b.publish(ctx, batch); err != nil {
			b.service.log.Warn("publish confirmations at shutdown failed; the outbox will retry", "err", err)
			return
		}
	}
}

// publish sends one message with the batch and clears its outbox entries.
func (b *Batcher) publish(ctx context.Context, batch []pendingConfirmation) error {
	msg := ConfirmationBatch{Confirmations: make([]ReservationConfirmed, len(batch))}
	for i, p := range batch {
		msg.Confirmations[i] = p.c.message(p.saleID)
	}
	payload, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode %d confirmations: %w", len(batch), err)
	}
	wm := message.NewMessage("batch-"+batch[0].c.Reservation, payload)
	if err := b.service.publisher.Publish(OrdersTopic, wm); err != nil {
		return fmt.Errorf("publish %d confirmations: %w", len(batch), err)
	}
	_, err = b.service.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, pc := range batch {
			p.ZRem(ctx, waitingroom.Keys(pc.saleID).Outbox, pc.c.Reservation)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("clear %d outbox entries: %w", len(batch), err)
	}
	return nil
}
