package worker

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/clock"
	"github.com/foyerhq/foyer/internal/orderstream"
)

// partitionsToRead is how many partitions of each stream the worker must
// read: its own count, or the highest any gateway announced if that is
// more, and never fewer than it reads already. A record it cannot read is
// logged, and what it has kept: the next look tries again.
func (w *Worker) partitionsToRead(ctx context.Context, reading int) int {
	n := max(w.cfg.Partitions.Count(), reading)
	highest, err := orderstream.Highest(ctx, w.rdb)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("read the stream partitions gateways publish to; reading those known", "partitions", n, "err", err)
		}
		return n
	}
	return max(n, highest)
}

// addConsumers adds a consumer of each stream for partitions from to to-1,
// and with legacy those of the single streams of versions before partitions,
// which gateways of such a version still publish to during an upgrade.
func (w *Worker) addConsumers(from, to int, legacy bool) {
	for p := from; p < to; p++ {
		w.router.AddConsumerHandler(fmt.Sprintf("write-orders-p%d", p), orderstream.Orders.Partition(p), w.sub, w.writer.Handle)
		w.router.AddConsumerHandler(fmt.Sprintf("settle-payments-p%d", p), orderstream.Payments.Partition(p), w.sub, w.settler.Handle)
	}
	if legacy {
		w.router.AddConsumerHandler("write-orders-legacy", orderstream.Orders.Legacy(), w.sub, w.writer.Handle)
		w.router.AddConsumerHandler("settle-payments-legacy", orderstream.Payments.Legacy(), w.sub, w.settler.Handle)
	}
	w.warnIfPoolIsSmall(2 * (to + 1))
}

// followPartitions looks every PartitionsPoll for a higher partition count
// than the worker reads, announced by a gateway started with more, and
// starts consumers of the new partitions on the running router. Until then
// their messages wait in their streams: the consumer group is created at
// their start, so a consumer reads from the first one published. It
// returns when ctx ends.
func (w *Worker) followPartitions(ctx, routerCtx context.Context, reading int) {
	failed := false // the last new consumers did not subscribe: try again
	clock.Every(ctx, w.cfg.PartitionsPoll, func(ctx context.Context) {
		n := w.partitionsToRead(ctx, reading)
		if (n == reading && !failed) || w.router.IsClosed() {
			return
		}
		if n > reading {
			w.log.Info("gateways publish to more stream partitions; reading them too", "from", reading, "to", n)
			w.addConsumers(reading, n, false)
			reading = n
		}
		if err := w.router.RunHandlers(routerCtx); err != nil {
			failed = true
			w.log.Error("start consumers of new stream partitions; retrying", "err", err)
			return
		}
		failed = false
	})
}

// warnIfPoolIsSmall logs when the subscriber's client has fewer connections
// than the worker has blocking reads: each consumer holds one while it
// waits for a message, so with fewer the consumers take turns, and a
// message waits for a turn (up to the pool's timeout).
func (w *Worker) warnIfPoolIsSmall(readers int) {
	c, ok := w.subClient.(*redis.Client) // a cluster client has a pool per shard
	if !ok || c.Options().PoolSize >= readers {
		return
	}
	w.log.Warn("the order workers' Redis pool is smaller than their blocking reads; add ?pool_size= to FOYER_REDIS_URL",
		"pool_size", c.Options().PoolSize, "reads", readers)
}
