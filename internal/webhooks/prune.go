package webhooks

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Retention bounds: a day lets a shop replay what it lost overnight; a year
// is as far back as the tables are meant to grow.
const (
	DefaultRetention = 30 * 24 * time.Hour
	MinRetention     = 24 * time.Hour
	MaxRetention     = 365 * 24 * time.Hour
)

// pruneBatch is how many rows one delete takes: each is a short
// transaction of its own, so pruning never holds locks the dispatcher or
// the order workers wait on for long.
const pruneBatch = 1000

// Prune deletes the deliveries delivered or dead and made longer than
// Retention ago, then the events that old no delivery names any more, a
// batch at a time. A pending delivery, and its event, is never pruned. It
// gives how many of each went.
func (d *Dispatcher) Prune(ctx context.Context) (deliveries, events int64, err error) {
	cutoff := time.Now().Add(-d.cfg.Retention)
	batches := func(what, query string, args ...any) (int64, error) {
		var total int64
		for {
			res, err := d.db.ExecContext(ctx, query, append([]any{cutoff, pruneBatch}, args...)...)
			if err != nil {
				return total, fmt.Errorf("prune webhook %s: %w", what, err)
			}
			n, _ := res.RowsAffected()
			total += n
			if n < pruneBatch {
				return total, nil
			}
		}
	}
	// Deliveries' ids grow with their age: the oldest are first by id.
	if deliveries, err = batches("deliveries", `DELETE FROM webhook_deliveries WHERE id IN (
		SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1 ORDER BY id LIMIT $2)`); err != nil {
		return deliveries, 0, err
	}
	// Events below the oldest event any delivery still names are named by
	// none (one scan per prune, not one per event).
	var floor sql.NullInt64
	if err := d.db.GetContext(ctx, &floor, `SELECT min(event_seq) FROM webhook_deliveries`); err != nil {
		return deliveries, 0, fmt.Errorf("prune webhook events: %w", err)
	}
	if !floor.Valid {
		floor.Int64 = 1<<63 - 1
	}
	events, err = batches("events", `DELETE FROM webhook_events WHERE seq IN (
		SELECT seq FROM webhook_events WHERE created_at < $1 AND seq < $3 ORDER BY seq LIMIT $2)`, floor.Int64)
	return deliveries, events, err
}

// prune runs Prune, logging what it did.
func (d *Dispatcher) prune(ctx context.Context) {
	deliveries, events, err := d.Prune(ctx)
	if err != nil && ctx.Err() == nil {
		d.log.Warn("webhooks: cannot prune old deliveries and events; trying again later", "err", err)
	}
	if deliveries+events > 0 {
		d.log.Info("webhooks: pruned", "deliveries", deliveries, "events", events, "older_than", d.cfg.Retention)
	}
}
