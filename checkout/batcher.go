package checkout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/waitingroom"
)

// Option configures a Service at construction.
type Option func(*Service)

// BatchedBy sends the service's confirmations in batch messages: the first
// confirmation of a batch waits up to window for more, and a batch holds at
// most size. Zero takes the defaults: 25ms, little next to a payment (the
// checkout's answer does not wait for it: the outbox holds the confirmation
// meanwhile), and 500, which a worker writes in one transaction in about 30
// ms, carrying the pipeline past the stream's 15k messages a second
// (docs/performance.md). A worker's cost is mostly per message (the
// transaction, the charge's bookkeeping, the announcement, the ack): at 5ms
// a gateway taking 250 checkouts a second sent one or two a message. The
// batches go out while Service.Run runs.
func BatchedBy(window time.Duration, size int) Option {
	return func(s *Service) {
		if window <= 0 {
			window = 25 * time.Millisecond
		}
		if size <= 0 {
			size = 500
		}
		s.batcher = &batcher{service: s, window: window, max: size, in: make(chan pendingConfirmation, 8192)}
	}
}

// Run sends the batches of a service built with BatchedBy until ctx ends,
// then what is left; without BatchedBy it returns at once, as every
// confirmation goes out alone when it is made.
func (s *Service) Run(ctx context.Context) error {
	if s.batcher == nil {
		return nil
	}
	return s.batcher.run(ctx)
}

// batcher gathers the confirmations a node makes into batch messages, so
// the order pipeline is not bound to one message per stream round trip.
// A confirmation is safe in the outbox meanwhile: if the node dies before
// the batch is out, another node's outbox relay publishes it.
type batcher struct {
	service *Service
	window  time.Duration // how long the first confirmation of a batch waits for more
	max     int           // the most confirmations in a batch
	in      chan pendingConfirmation
}

type pendingConfirmation struct {
	saleID string
	c      confirmed
}

// add queues a confirmation without waiting; false means the queue is full
// and the caller publishes it alone.
func (b *batcher) add(saleID string, c confirmed) bool {
	select {
	case b.in <- pendingConfirmation{saleID, c}:
		return true
	default:
		return false
	}
}

// run publishes batches until ctx ends, then publishes what is left.
func (b *batcher) run(ctx context.Context) error {
	for {
		var first pendingConfirmation
		select {
		case <-ctx.Done():
			b.flushRest()
			return nil
		case first = <-b.in:
		}
		batch := gather(b.in, first, b.window, b.max)
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
func (b *batcher) flushRest() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		var batch []pendingConfirmation
	drain:
		for len(batch) < b.max {
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

// publish sends the batch, one message per partition its sales fall in, and
// clears the outbox entries of each message once it is out. A partition
// whose message failed keeps its entries, for the outbox relay; the others
// are cleared.
func (b *batcher) publish(ctx context.Context, batch []pendingConfirmation) error {
	groups := byTopic(batch, func(p pendingConfirmation) string {
		return b.service.partitions.Topic(orderstream.Orders, p.saleID)
	})
	var errs []error
	for _, g := range groups {
		errs = append(errs, b.publishTo(ctx, g.topic, g.items))
	}
	return errors.Join(errs...)
}

// publishTo sends confirmations in one message to topic and clears their
// outbox entries.
func (b *batcher) publishTo(ctx context.Context, topic string, batch []pendingConfirmation) error {
	confirmations := make([]orderstream.ReservationConfirmed, len(batch))
	for i, p := range batch {
		confirmations[i] = p.c.message(p.saleID)
	}
	wm, err := orderstream.ConfirmationBatchMessage(confirmations)
	if err != nil {
		return err
	}
	if err := b.service.publisher.Publish(topic, wm); err != nil {
		return fmt.Errorf("publish %d confirmations to %s: %w", len(batch), topic, err)
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
